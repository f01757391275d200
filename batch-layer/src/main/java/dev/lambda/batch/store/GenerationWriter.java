package dev.lambda.batch.store;

import static org.apache.spark.sql.functions.col;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.batch.config.CassandraTarget;
import dev.lambda.batch.recompute.ViewAggregation;
import dev.lambda.common.cassandra.BatchGeneration;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.StoredMetrics;
import dev.lambda.common.metric.MetricValue.Distinct;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import org.apache.datasketches.hll.HllSketch;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Writes a view's aggregates into {@code batch_rows} as one generation, from the executors: rows
 * are shuffled so each Cassandra partition (level, period) is written by one task, in
 * single-partition unlogged batches, with a bounded number of writes in flight per task. Returns the
 * partitions written and their row counts, which the driver records before publishing.
 */
public final class GenerationWriter {

    private static final Logger LOG = LoggerFactory.getLogger(GenerationWriter.class);
    /** How often a batch of rows is sent before its failure fails the run, and the wait before the first resend (then longer). */
    private static final int WRITE_ATTEMPTS = 4;
    private static final Duration WRITE_BACKOFF = Duration.ofSeconds(1);

    private GenerationWriter() {
    }

    /**
     * @param consistency a {@link DefaultConsistencyLevel} name (executors get it serialized)
     * @return partition ({@code level/periodMillis}) → rows written
     */
    public static Map<String, Long> write(Dataset<Row> aggregates, ViewDefinition view, long generation, CassandraTarget target,
                                          int maxInFlight, String consistency) {
        Dataset<Row> byPartition = aggregates
                .withColumn("period", periodColumn())
                .repartition(col("level"), col("period"))
                .sortWithinPartitions(col("level"), col("period"));
        MapPartitionsFunction<Row, Tuple2<String, Long>> writer = rows -> writePartitionRows(rows, view, generation, target, maxInFlight,
                DefaultConsistencyLevel.valueOf(consistency));
        Map<String, Long> written = new HashMap<>();
        for (Tuple2<String, Long> t : byPartition.mapPartitions(writer, Encoders.tuple(Encoders.STRING(), Encoders.LONG())).collectAsList()) {
            written.merge(t._1(), t._2(), Long::sum);
        }
        return written;
    }

    /**
     * The partitions ({@code level/periodMillis}) a view's rows over these events occupy, known
     * before they are written: each level's period of each event's time is the period of its
     * hour, so the distinct hours of the view's events are enough.
     */
    public static Set<String> partitionsOf(Dataset<Row> events, ViewDefinition view) {
        Set<String> partitions = new TreeSet<>();
        List<Row> hours = events.filter(col("event_type").isin(view.events().toArray()))
                .select(functions.date_trunc("hour", col("event_ts"))).distinct().collectAsList();
        for (Row hour : hours) {
            Instant time = hour.getTimestamp(0).toInstant();
            for (Granularity level : view.levels()) {
                partitions.add(BatchGeneration.partition(level, level.periodOf(level.bucketOf(time))));
            }
        }
        return partitions;
    }

    /** The partition period of each row's bucket at its level (hour / day / month start), as Spark computes it. */
    private static org.apache.spark.sql.Column periodColumn() {
        return functions.when(col("level").equalTo("minute"), functions.date_trunc("hour", col("bucket")))
                .when(col("level").equalTo("hour"), functions.date_trunc("day", col("bucket")))
                .otherwise(functions.date_trunc("month", col("bucket")));
    }

    private static Iterator<Tuple2<String, Long>> writePartitionRows(Iterator<Row> rows, ViewDefinition view, long generation,
                                                                     CassandraTarget target, int maxInFlight, ConsistencyLevel consistency)
            throws InterruptedException {
        BatchRowsTable table = new BatchRowsTable(ExecutorSessions.get(target), target.keyspace());
        Semaphore inFlight = new Semaphore(maxInFlight);
        List<Sent<List<BatchRowsTable.StoredRow>>> pending = new ArrayList<>();
        Map<String, Long> counts = new HashMap<>();
        List<BatchRowsTable.StoredRow> chunk = new ArrayList<>();
        String chunkPartition = null;
        while (rows.hasNext()) {
            Row row = rows.next();
            BatchRowsTable.StoredRow stored = toStored(row, view);
            String partition = BatchGeneration.partition(stored.level(), stored.level().periodOf(stored.bucket()));
            if (chunkPartition != null && (!partition.equals(chunkPartition) || chunk.size() >= 64)) {
                pending.add(submit(table, view, generation, chunk, consistency, inFlight));
                chunk = new ArrayList<>();
            }
            chunkPartition = partition;
            chunk.add(stored);
            counts.merge(partition, 1L, Long::sum);
        }
        if (!chunk.isEmpty()) {
            pending.add(submit(table, view, generation, chunk, consistency, inFlight));
        }
        awaitResending(pending, again -> submit(table, view, generation, again, consistency, inFlight), WRITE_ATTEMPTS, WRITE_BACKOFF,
                view.name());
        List<Tuple2<String, Long>> out = new ArrayList<>();
        counts.forEach((p, n) -> out.add(new Tuple2<>(p, n)));
        return out.iterator();
    }

    private static Sent<List<BatchRowsTable.StoredRow>> submit(BatchRowsTable table, ViewDefinition view, long generation,
                                                               List<BatchRowsTable.StoredRow> chunk, ConsistencyLevel consistency,
                                                               Semaphore inFlight) throws InterruptedException {
        inFlight.acquire();
        // a statement that cannot be bound throws here, and fails the task at once: sending it again would not help
        List<CompletionStage<Void>> stages = table.writePartition(view.name(), view.version(), generation, chunk, consistency);
        CompletableFuture<Void> all = CompletableFuture.allOf(stages.stream().map(CompletionStage::toCompletableFuture)
                .toArray(CompletableFuture[]::new));
        return new Sent<>(chunk, all.whenComplete((ok, error) -> inFlight.release()));
    }

    /** One chunk of rows and its write. */
    record Sent<C>(C chunk, CompletableFuture<Void> write) {
    }

    /** Sends a chunk again. */
    interface Resend<C> {
        Sent<C> send(C chunk) throws InterruptedException;
    }

    /**
     * Waits for every write of {@code sent}, sending those that failed again after a back-off
     * ({@code backoff}, then twice it, three times, ...), up to {@code attempts} sends in all: a timeout on a busy
     * node is no reason to lose the run, and each write is an upsert of the same values. Then the
     * first error left is thrown, failing the task and with it the run.
     */
    static <C> void awaitResending(List<Sent<C>> sent, Resend<C> resend, int attempts, Duration backoff, String what)
            throws InterruptedException {
        List<Sent<C>> pending = sent;
        for (int attempt = 1; ; attempt++) {
            CompletableFuture.allOf(pending.stream().map(Sent::write).toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
            List<Sent<C>> failed = pending.stream().filter(s -> s.write().isCompletedExceptionally()).toList();
            if (failed.isEmpty()) {
                return;
            }
            if (attempt >= attempts) {
                failed.get(0).write().join(); // throws its error
            }
            Duration wait = backoff.multipliedBy(attempt);
            LOG.warn("{} batches of {} rows failed to write (attempt {}): {}; sending them again in {}", failed.size(), what, attempt,
                    failed.get(0).write().handle((ok, e) -> String.valueOf(e)).join(), wait);
            Thread.sleep(wait.toMillis());
            List<Sent<C>> again = new ArrayList<>(failed.size());
            for (Sent<C> s : failed) {
                again.add(resend.send(s.chunk()));
            }
            pending = again;
        }
    }

    /** One aggregated Spark row in its stored form; empty sums and sketches are left out, as the speed layer does. */
    public static BatchRowsTable.StoredRow toStored(Row row, ViewDefinition view) {
        Granularity level = Granularity.fromId(row.getString(row.fieldIndex("level")));
        Instant bucket = row.getTimestamp(row.fieldIndex("bucket")).toInstant();
        List<String> dims = row.getList(row.fieldIndex("dims"));
        Map<String, Long> counts = new HashMap<>();
        Map<String, BigDecimal> decimals = new HashMap<>();
        Map<String, ByteBuffer> sketches = new HashMap<>();
        List<MetricSpec> metrics = view.metrics();
        for (int i = 0; i < metrics.size(); i++) {
            int index = row.fieldIndex(ViewAggregation.metricColumn(i));
            if (row.isNullAt(index)) {
                continue;
            }
            MetricSpec m = metrics.get(i);
            switch (m.type()) {
                case COUNT -> counts.put(m.name(), row.getLong(index));
                case SUM, MIN, MAX -> decimals.put(m.name(), row.getDecimal(index).setScale(m.scale()));
                case DISTINCT -> {
                    HllSketch sketch = HllSketch.heapify((byte[]) row.get(index));
                    if (!sketch.isEmpty()) {
                        // Spark's hll_sketch_agg builds HLL_8: stored as the speed layer's type, the same registers in half the
                        // bytes once a sketch leaves its exact modes
                        HllSketch stored = sketch.getTgtHllType() == Distinct.TYPE ? sketch : sketch.copyAs(Distinct.TYPE);
                        sketches.put(m.name(), ByteBuffer.wrap(stored.toCompactByteArray()));
                    }
                }
            }
        }
        return new BatchRowsTable.StoredRow(level, bucket, dims, new StoredMetrics(counts, decimals, sketches));
    }
}
