package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/** Writes and reads {@code speed_partitions}: one small row per speed-layer application and input partition. */
public final class SpeedPartitionsTable {

    private static final String COLUMNS = "application_id, source_partition, next_offset, newest_ingest, duplicates_dropped, "
            + "dead_letters, updated_at, rows_ttl_ms";

    private final CqlSession session;
    private final PreparedStatement upsert;
    private final PreparedStatement addSlotWidths;
    private final PreparedStatement selectAll;

    public SpeedPartitionsTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".speed_partitions";
        this.upsert = session.prepare("INSERT INTO " + table + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
        // each width lives as long as a row written with it: the speed rows' TTL from its last write
        this.addSlotWidths = session.prepare("UPDATE " + table + " USING TTL ? AND TIMESTAMP ? SET slot_widths_ms = slot_widths_ms + ?"
                + " WHERE application_id = ? AND source_partition = ?");
        this.selectAll = session.prepare("SELECT " + COLUMNS + ", slot_widths_ms FROM " + table);
    }

    /**
     * Upserts a partition's status with {@code writeTime} (microseconds) as its write time: of two
     * writes, the later write time stays (see {@link SpeedRowsTable}). Its slot widths are added to
     * those recorded, each kept for {@code rowsTtl} from now.
     */
    public CompletionStage<Void> write(SpeedPartitionStatus s, long writeTime) {
        BoundStatementBuilder status = upsert.boundStatementBuilder()
                .setString(0, s.applicationId()).setInt(1, s.partition()).setLong(2, s.nextOffset()).setInstant(3, s.newestIngest())
                .setLong(4, s.duplicatesDropped()).set(5, s.deadLetters(), CqlCodecs.COUNTS).setInstant(6, s.updatedAt())
                .setLong(8, writeTime);
        if (s.rowsTtl() != null) { // otherwise left unset: the column keeps what it had
            status = status.setLong(7, s.rowsTtl().toMillis());
        }
        if (s.slotWidths().isEmpty()) {
            return session.executeAsync(status.build()).thenApply(rs -> null);
        }
        if (s.rowsTtl() == null) {
            throw new IllegalArgumentException("slot widths " + s.slotWidths() + " of " + s.applicationId() + " are recorded for as long as"
                    + " its rows live: give the rows' TTL with them");
        }
        Set<Long> widths = s.slotWidths().stream().map(Duration::toMillis).collect(Collectors.toSet());
        BatchStatement both = BatchStatement.newInstance(DefaultBatchType.UNLOGGED, status.build(), addSlotWidths.bind(
                (int) Math.min(Integer.MAX_VALUE, s.rowsTtl().toSeconds()), writeTime, widths, s.applicationId(), s.partition()));
        return session.executeAsync(both).thenApply(rs -> null); // one partition: applied as one mutation
    }

    /** Every application's partitions (a handful of rows per application). */
    public CompletionStage<List<SpeedPartitionStatus>> readAll() {
        return Pages.collect(session.executeAsync(selectAll.bind()), SpeedPartitionsTable::toStatus);
    }

    private static SpeedPartitionStatus toStatus(Row row) {
        return new SpeedPartitionStatus(row.getString("application_id"), row.getInt("source_partition"), row.getLong("next_offset"),
                row.getInstant("newest_ingest"), row.getLong("duplicates_dropped"),
                row.get("dead_letters", CqlCodecs.COUNTS), row.getInstant("updated_at"),
                row.getSet("slot_widths_ms", Long.class).stream().map(Duration::ofMillis).collect(Collectors.toSet()),
                row.isNull("rows_ttl_ms") ? null : Duration.ofMillis(row.getLong("rows_ttl_ms")));
    }
}
