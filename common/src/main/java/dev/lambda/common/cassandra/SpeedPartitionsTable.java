package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Writes and reads {@code speed_partitions}: one small row per speed-layer application and input partition. */
public final class SpeedPartitionsTable {

    private static final String COLUMNS = "application_id, source_partition, next_offset, newest_ingest, duplicates_dropped, "
            + "dead_letters, updated_at, slot_width_ms";

    private final CqlSession session;
    private final PreparedStatement upsert;
    private final PreparedStatement selectAll;

    public SpeedPartitionsTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".speed_partitions";
        this.upsert = session.prepare("INSERT INTO " + table + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
        this.selectAll = session.prepare("SELECT " + COLUMNS + " FROM " + table);
    }

    /**
     * Upserts a partition's status with {@code writeTime} (microseconds) as its write time: of two
     * writes, the later write time stays (see {@link SpeedRowsTable}).
     */
    public CompletionStage<Void> write(SpeedPartitionStatus s, long writeTime) {
        BoundStatementBuilder statement = upsert.boundStatementBuilder()
                .setString(0, s.applicationId()).setInt(1, s.partition()).setLong(2, s.nextOffset()).setInstant(3, s.newestIngest())
                .setLong(4, s.duplicatesDropped()).set(5, s.deadLetters(), CqlCodecs.COUNTS).setInstant(6, s.updatedAt())
                .setLong(8, writeTime);
        if (s.slotWidth() != null) { // otherwise left unset: the column keeps what it had
            statement = statement.setLong(7, s.slotWidth().toMillis());
        }
        return session.executeAsync(statement.build()).thenApply(rs -> null);
    }

    /** Every application's partitions (a handful of rows per application). */
    public CompletionStage<List<SpeedPartitionStatus>> readAll() {
        return Pages.collect(session.executeAsync(selectAll.bind()), SpeedPartitionsTable::toStatus);
    }

    private static SpeedPartitionStatus toStatus(Row row) {
        return new SpeedPartitionStatus(row.getString("application_id"), row.getInt("source_partition"), row.getLong("next_offset"),
                row.getInstant("newest_ingest"), row.getLong("duplicates_dropped"),
                row.get("dead_letters", CqlCodecs.COUNTS), row.getInstant("updated_at"),
                row.isNull("slot_width_ms") ? null : Duration.ofMillis(row.getLong("slot_width_ms")));
    }
}
