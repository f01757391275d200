package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/** Writes and reads {@code speed_partitions}: one small row per speed-layer application and input partition. */
public final class SpeedPartitionsTable {

    private static final String COLUMNS = "application_id, source_partition, next_offset, newest_ingest, duplicates_dropped, "
            + "dead_letters, updated_at";

    private final CqlSession session;
    private final PreparedStatement upsert;
    private final PreparedStatement addSlotWidths;
    private final PreparedStatement setViewVersions;
    private final PreparedStatement selectAll;

    public SpeedPartitionsTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".speed_partitions";
        this.upsert = session.prepare("INSERT INTO " + table + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
        // a width and a TTL live as long as a row written with them: the speed rows' TTL from their last write
        this.addSlotWidths = session.prepare("UPDATE " + table + " USING TTL ? AND TIMESTAMP ? SET slot_width_ingests = slot_width_ingests"
                + " + ?, rows_ttls_ms = rows_ttls_ms + ? WHERE application_id = ? AND source_partition = ?");
        this.setViewVersions = session.prepare("UPDATE " + table + " USING TIMESTAMP ? SET view_versions = ? WHERE application_id = ?"
                + " AND source_partition = ?");
        this.selectAll = session.prepare("SELECT " + COLUMNS + ", slot_width_ingests, rows_ttls_ms, view_versions FROM " + table);
    }

    /**
     * Upserts a partition's status with {@code writeTime} (microseconds) as its write time: of two
     * writes, the later write time stays (see {@link SpeedRowsTable}). Its slot widths and its rows'
     * TTL (one) are added to those recorded, each kept for that TTL from now.
     */
    public CompletionStage<Void> write(SpeedPartitionStatus s, long writeTime) {
        BoundStatement status = upsert.boundStatementBuilder()
                .setString(0, s.applicationId()).setInt(1, s.partition()).setLong(2, s.nextOffset()).setInstant(3, s.newestIngest())
                .setLong(4, s.duplicatesDropped()).set(5, s.deadLetters(), CqlCodecs.COUNTS).setInstant(6, s.updatedAt())
                .setLong(7, writeTime).build();
        if (s.slotWidths().isEmpty() && s.rowsTtls().isEmpty()) {
            return session.executeAsync(status).thenApply(rs -> null);
        }
        if (s.rowsTtls().size() != 1) {
            throw new IllegalArgumentException("slot widths " + s.slotWidths().keySet() + " of " + s.applicationId() + " are recorded"
                    + " for as long as its rows live: give the one TTL its rows are written with, not " + s.rowsTtls());
        }
        BatchStatement both = BatchStatement.newInstance(DefaultBatchType.UNLOGGED, status,
                slotWidths(s.applicationId(), s.partition(), s.slotWidths(), s.rowsTtls().iterator().next(), writeTime));
        return session.executeAsync(both).thenApply(rs -> null); // one partition: applied as one mutation
    }

    /**
     * Adds slot widths (each with the partition's newest ingest written with it) and the TTL rows
     * are written with, as {@link #write} does, leaving the progress as it is: the speed layer
     * records a width before it writes rows of a slot the width's recorded ingest does not reach,
     * so that no reader sees rows of a width, or of a slot, this table does not name.
     */
    public CompletionStage<Void> addSlotWidths(String applicationId, int partition, Map<Duration, Instant> slotWidths, Duration rowsTtl,
                                               long writeTime) {
        return session.executeAsync(slotWidths(applicationId, partition, slotWidths, rowsTtl, writeTime)).thenApply(rs -> null);
    }

    private BoundStatement slotWidths(String applicationId, int partition, Map<Duration, Instant> slotWidths, Duration ttl,
                                      long writeTime) {
        Map<Long, Instant> widths = new HashMap<>();
        slotWidths.forEach((width, ingest) -> widths.put(width.toMillis(), ingest));
        return addSlotWidths.bind((int) ttl.toSeconds(), writeTime, widths, Set.of(ttl.toMillis()), applicationId, partition);
    }

    /**
     * Records the view versions a partition's rows are written for, each with its time (see
     * {@link SpeedPartitionStatus#viewVersions}), leaving the rest as it is; {@code writeTime}
     * (microseconds) decides between two records, as for {@link #write}. A status write leaves
     * them as they are.
     */
    public CompletionStage<Void> recordViewVersions(String applicationId, int partition, Map<String, Instant> viewVersions,
                                                    long writeTime) {
        return session.executeAsync(setViewVersions.boundStatementBuilder().setLong(0, writeTime)
                .set(1, viewVersions, CqlCodecs.SINCE).setString(2, applicationId).setInt(3, partition).build()).thenApply(rs -> null);
    }

    /** Every application's partitions (a handful of rows per application). */
    public CompletionStage<List<SpeedPartitionStatus>> readAll() {
        return Pages.collect(session.executeAsync(selectAll.bind()), SpeedPartitionsTable::toStatus);
    }

    private static SpeedPartitionStatus toStatus(Row row) {
        Map<Duration, Instant> widths = new HashMap<>();
        row.getMap("slot_width_ingests", Long.class, Instant.class)
                .forEach((width, ingest) -> widths.put(Duration.ofMillis(width), ingest));
        return new SpeedPartitionStatus(row.getString("application_id"), row.getInt("source_partition"), row.getLong("next_offset"),
                row.getInstant("newest_ingest"), row.getLong("duplicates_dropped"),
                row.get("dead_letters", CqlCodecs.COUNTS), row.getInstant("updated_at"), widths,
                row.getSet("rows_ttls_ms", Long.class).stream().map(Duration::ofMillis).collect(Collectors.toSet()),
                row.isNull("view_versions") ? Map.of() : row.get("view_versions", CqlCodecs.SINCE));
    }
}
