package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Writes, reads and drops the rows of batch generations ({@code batch_rows}). */
public final class BatchRowsTable {

    private static final String KEY = "view_name, version, generation, level, period";
    private static final String VALUES = "bucket, dims, counts, decimals, sketches";

    private final CqlSession session;
    private final PreparedStatement insert;
    private final PreparedStatement selectPartition;
    private final PreparedStatement deletePartition;
    private final Map<ViewDefinition, MetricColumns> metricColumns = new ConcurrentHashMap<>();

    public BatchRowsTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".batch_rows";
        this.insert = session.prepare("INSERT INTO " + table + " (" + KEY + ", " + VALUES + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        this.selectPartition = session.prepare("SELECT generation, level, " + VALUES + " FROM " + table
                + " WHERE view_name = ? AND version = ? AND generation = ? AND level = ? AND period = ?");
        this.deletePartition = session.prepare("DELETE FROM " + table
                + " WHERE view_name = ? AND version = ? AND generation = ? AND level = ? AND period = ?");
    }

    /** One row, its metrics encoded as the speed layer encodes its own ({@link MetricColumns}). */
    public CompletionStage<Void> write(ViewDefinition view, BatchRow row) {
        MetricColumns.Encoded m = metricColumns.computeIfAbsent(view, MetricColumns::new).encode(row.aggregate());
        BoundStatement statement = keyBound(view.name(), view.version(), row.generation(), row.level(), row.bucket(), row.dims())
                .setBytesUnsafe(7, m.counts()).setBytesUnsafe(8, m.decimals()).setBytesUnsafe(9, m.sketches()).build();
        return session.executeAsync(statement).thenApply(rs -> null);
    }

    /** One row of a generation whose metrics are already in their stored form (the batch layer's path). */
    public record StoredRow(Granularity level, Instant bucket, List<String> dims, StoredMetrics metrics) {
    }

    /**
     * Writes rows that all belong to one partition (same level and period) as unlogged
     * single-partition batches at {@code consistency}; one stage per batch.
     */
    public List<CompletionStage<Void>> writePartition(String view, String version, long generation, List<StoredRow> rows,
                                                      ConsistencyLevel consistency) {
        List<BoundStatement> statements = new ArrayList<>(rows.size());
        List<Integer> sizes = new ArrayList<>(rows.size());
        for (StoredRow r : rows) {
            statements.add(bind(view, version, generation, r.level(), r.bucket(), r.dims(), r.metrics()));
            sizes.add(r.metrics().estimatedBytes());
        }
        List<CompletionStage<Void>> stages = new ArrayList<>();
        for (BatchStatement batch : PartitionBatches.of(statements, sizes)) {
            stages.add(session.executeAsync(batch.setConsistencyLevel(consistency)).thenApply(rs -> null));
        }
        return stages;
    }

    private BoundStatement bind(String view, String version, long generation, Granularity level, Instant bucket, List<String> dims,
                                StoredMetrics m) {
        return m.bind(keyBound(view, version, generation, level, bucket, dims), 7).build();
    }

    /** The insert's bind markers in the order of its columns ({@link #KEY}, {@link #VALUES}): the key and clustering ones. */
    private BoundStatementBuilder keyBound(String view, String version, long generation, Granularity level, Instant bucket,
                                           List<String> dims) {
        return insert.boundStatementBuilder()
                .setString(0, view).setString(1, version).setLong(2, generation).setString(3, level.id())
                .setInstant(4, level.periodOf(bucket)).setInstant(5, bucket).set(6, dims, CqlCodecs.TEXTS);
    }

    /** All rows of one partition: a generation's buckets of one level within one period. */
    public CompletionStage<List<BatchRow>> read(ViewDefinition view, long generation, Granularity level, Instant period) {
        return Pages.collect(session.executeAsync(selectPartition.bind(view.name(), view.version(), generation, level.id(), period)),
                row -> toRow(view, row));
    }

    /**
     * Deletes a partition's rows written no later than {@code asOf} (the delete's write time): rows
     * another run writes after it, into a generation of the same id, stay.
     */
    public CompletionStage<Void> deletePartition(String view, String version, long generation, Granularity level, Instant period,
                                                 Instant asOf) {
        return session.executeAsync(deletePartition.bind(view, version, generation, level.id(), period)
                .setQueryTimestamp(WriteTimes.micros(asOf))).thenApply(rs -> null);
    }

    private static BatchRow toRow(ViewDefinition view, Row row) {
        return new BatchRow(row.getLong("generation"), Granularity.fromId(row.getString("level")), row.getInstant("bucket"),
                row.get("dims", CqlCodecs.TEXTS), StoredMetrics.read(row).decode(view));
    }
}
