package dev.lambda.batch.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.config.CassandraTarget;
import dev.lambda.batch.ingest.EnvelopeColumns;
import dev.lambda.batch.ingest.MasterDataset;
import dev.lambda.batch.recompute.Dedup;
import dev.lambda.batch.recompute.Recompute;
import dev.lambda.batch.recompute.ViewAggregation;
import dev.lambda.batch.spark.SparkSessions;
import dev.lambda.batch.store.ExecutorSessions;
import dev.lambda.batch.store.GenerationWriter;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * Batch-layer benchmark on real servers (not a test): generates a master dataset of N events as
 * Parquet, then measures the warm recompute (dedup + every view at every level, every column
 * computed) in events/s, and the generation write into Cassandra in rows/s against a plain
 * async-insert loop of the same rows in the same run. Prints figures; asserts nothing. Leaves the Parquet for other engines (DuckDB).
 *
 * <p>Run: {@code mvn -pl batch-layer -am verify -DskipTests -Pbench -Dbench.events=5000000}
 * ({@code -Dbench.parserVersion=0}: rows as an older parser archived them, so the recompute parses
 * every one again from its raw value, as it does after a parser change)
 */
public final class BatchBenchmark {

    public static void main(String[] args) throws Exception {
        long events = Long.getLong("bench.events", 5_000_000L);
        int archivedBy = Integer.getInteger("bench.parserVersion", EnvelopeParser.VERSION);
        Path data = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bench-");
        ViewCatalog views = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
        BatchConfig defaults = BatchConfig.from(BatchConfig.flags(new String[] {"recompute"}, Map.of()));
        SparkSession spark = SparkSessions.create(defaults); // the session of a recompute run with default flags
        System.out.printf("batch-layer benchmark: %,d events, %d cores, Spark %s local[*], archived by parser version %d (current %d)%n",
                events, Runtime.getRuntime().availableProcessors(), spark.version(), archivedBy, EnvelopeParser.VERSION);

        String masterPath = data.resolve("master").toString();
        long t0 = System.nanoTime();
        generate(spark, events, archivedBy).write().mode(SaveMode.Overwrite).partitionBy("ingest_date").parquet(masterPath + "/kafka");
        System.out.printf("generate:  %,d events as Parquet in %.1f s (%s/kafka)%n", events, secs(t0), masterPath);

        Instant cutoff = Instant.parse("2030-01-01T00:00:00Z");
        Dataset<Row> master = EnvelopeColumns.current(new MasterDataset(masterPath).read(spark), defaults.futureTolerance());
        for (int run = 0; run < 3; run++) { // first run warms the JIT and the file cache
            long start = System.nanoTime();
            long groups = 0;
            Dataset<Row> counted = Recompute.eventsBefore(master, cutoff).persist(StorageLevel.MEMORY_AND_DISK());
            long kept = Dedup.counts(counted).kept(); // as the recompute counts them
            StringBuilder phases = new StringBuilder(String.format("dedup %.1f s", secs(start)));
            for (ViewDefinition view : views.views()) {
                long v = System.nanoTime();
                groups += computeEveryColumn(ViewAggregation.aggregate(counted, view));
                phases.append(String.format(", %s %.1f s", view.name(), secs(v)));
            }
            double s = secs(start);
            System.out.printf("recompute run %d: %,d events (%,d after dedup) -> %,d rows in %.1f s = %,.0f events/s (%s)%n",
                    run + 1, events, kept, groups, s, events / s, phases);
            counted.unpersist();
        }

        if (!Boolean.parseBoolean(System.getProperty("bench.writes", "true"))) {
            spark.stop();
            return;
        }
        try (LocalCluster cluster = LocalCluster.start(data.resolve("servers"), 0, 0, 1, false)) {
            var c = cluster.cassandra().contactPoint();
            CassandraSettings settings = new CassandraSettings(List.of(c), cluster.cassandra().localDatacenter(), "bench",
                    Replication.simple(1), null, null);
            try (CqlSession session = CassandraSessions.openWithSchema(settings)) {
                CassandraTarget target = CassandraTarget.from(settings);
                Dataset<Row> counted = Recompute.eventsBefore(master, cutoff).persist(StorageLevel.MEMORY_AND_DISK());
                counted.count();
                ViewDefinition pageviews = views.find("pageviews").orElseThrow();
                // the write comparison uses one day of the view's rows: enough to measure, not an hour of waiting
                Dataset<Row> rows = ViewAggregation.aggregate(counted, pageviews)
                        .filter(col("bucket").lt(lit(Timestamp.from(Instant.parse("2026-11-02T00:00:00Z")))))
                        .persist(StorageLevel.MEMORY_AND_DISK());
                long total = rows.count();

                long w = System.nanoTime();
                GenerationWriter.write(rows, pageviews, 1L, target, 64, "LOCAL_QUORUM");
                double writerSecs = secs(w);

                long r0 = System.nanoTime();
                rows.foreachPartition((org.apache.spark.api.java.function.ForeachPartitionFunction<Row>) it -> rawInserts(it, pageviews, target));
                double rawSecs = secs(r0);
                System.out.printf("cassandra write, generation writer (Spark tasks, partition batches): %,d rows in %.1f s = %,.0f rows/s%n",
                        total, writerSecs, total / writerSecs);
                System.out.printf("cassandra write, plain async-insert loop (Spark tasks, one row per request, 256 in flight): %,d rows in %.1f s = %,.0f rows/s%n",
                        total, rawSecs, total / rawSecs);
                System.out.printf("ratio writer/raw: %.2f%n", rawSecs / writerSecs);
            } finally {
                // before the node stops: sessions left open reconnect forever and keep this JVM (and the command) from ending
                ExecutorSessions.closeAll();
                closeRawSession();
            }
        }
        spark.stop();
    }

    /**
     * Computes every column of every row, as the generation writer reads them, and returns the row
     * count. ({@code count()} alone would not: Spark drops the metric columns nobody reads from the
     * plan, sketches and decimals included.)
     */
    private static long computeEveryColumn(Dataset<Row> rows) throws InterruptedException {
        Observation seen = new Observation("rows");
        rows.observe(seen, functions.count(lit(1)).as("rows")).write().format("noop").mode(SaveMode.Overwrite).save();
        return (Long) seen.get().get("rows").get();
    }

    private static CqlSession rawSession;

    private static synchronized void closeRawSession() {
        if (rawSession != null) {
            rawSession.close();
            rawSession = null;
        }
    }

    /** The baseline: the same rows, one INSERT per row, 256 in flight, no grouping by partition. */
    private static void rawInserts(java.util.Iterator<Row> rows, ViewDefinition view, CassandraTarget target) throws InterruptedException {
        CqlSession session;
        synchronized (BatchBenchmark.class) {
            if (rawSession == null) {
                rawSession = CassandraSessions.open(target.settings());
            }
            session = rawSession;
        }
        PreparedStatement insert = session.prepare("INSERT INTO " + target.keyspace() + ".batch_rows (view_name, version, generation, "
                + "level, period, bucket, dims, counts, decimals, sketches) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Semaphore inFlight = new Semaphore(256);
        List<CompletableFuture<?>> futures = new ArrayList<>();
        while (rows.hasNext()) {
            BatchRowsTable.StoredRow s = GenerationWriter.toStored(rows.next(), view);
            inFlight.acquire();
            futures.add(session.executeAsync(insert.bind(view.name(), view.version(), 2L, s.level().id(), s.level().periodOf(s.bucket()),
                    s.bucket(), s.dims(), s.metrics().counts(), s.metrics().decimals(), s.metrics().sketches()))
                    .toCompletableFuture().whenComplete((ok, e) -> inFlight.release()));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
    }

    private static double secs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /**
     * Realistic master rows over two days: page views and purchases by 10k users, with the skew real
     * traffic has (a few pages, products and countries take most of it: 200 pages, 500 products,
     * 40 countries drawn from power-law-like distributions), ~1% duplicates.
     */
    private static Dataset<Row> generate(SparkSession spark, long n, int parserVersion) {
        Column i = col("id");
        Column rand = functions.rand(42);
        Column start = lit(Timestamp.from(Instant.parse("2026-11-01T00:00:00Z")));
        Column ingest = functions.timestamp_millis(functions.unix_millis(start).plus(i.multiply(172_800_000L).divide(n).cast("long")));
        Column eventTs = functions.timestamp_millis(functions.unix_millis(ingest).minus(functions.floor(functions.rand(7).multiply(120_000))));
        Column isPurchase = functions.rand(3).lt(0.3);
        Column user = concat(lit("u"), functions.floor(functions.rand(11).multiply(10_000)).cast("int").cast("string"));
        Column country = concat(lit("C"), functions.floor(functions.pow(functions.rand(13), 2).multiply(40)).cast("int").cast("string"));
        // attributes in name order, as the ingest stores them
        Column attrs = when(isPurchase, functions.map(lit("amount"), functions.format_number(functions.rand(19).multiply(500).plus(1), 2),
                        lit("country"), country, lit("product"),
                        concat(lit("sku-"), functions.floor(functions.pow(functions.rand(17), 3).multiply(500)).cast("int").cast("string")),
                        lit("user_id"), user))
                .otherwise(functions.map(lit("country"), country, lit("page"),
                        concat(lit("/p/"), functions.floor(functions.pow(functions.rand(23), 3).multiply(200)).cast("int").cast("string")),
                        lit("user_id"), user));
        Column id = when(rand.lt(0.01).and(i.gt(1000)), concat(lit("e"), i.minus(1000).cast("string")))
                .otherwise(concat(lit("e"), i.cast("string")));
        return spark.range(n).select(
                i.mod(4).cast("int").as("kafka_partition"), i.divide(4).cast("long").as("kafka_offset"), ingest.as("ingest_ts"),
                lit(null).cast("binary").as("value"), lit(true).as("valid"), lit(null).cast("string").as("reject_reason"),
                lit(null).cast("string").as("reject_detail"), id.as("event_id"),
                when(isPurchase, lit("purchase")).otherwise(lit("page_view")).as("event_type"), eventTs.as("event_ts"),
                attrs.as("attrs"), lit(parserVersion).as("parser_version"))
                .withColumn("value", functions.to_json(functions.struct(col("event_id").as("id"), col("event_type").as("type"),
                        functions.date_format(col("event_ts"), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX").as("ts"), col("attrs"))).cast("binary"))
                .withColumn("ingest_date", functions.to_date(col("ingest_ts")));
    }
}
