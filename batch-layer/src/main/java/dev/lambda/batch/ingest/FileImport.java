package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.lambda.batch.Progress;
import dev.lambda.batch.config.BatchConfig;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code import}: backfills history that never went through Kafka from JSON-lines files (one
 * envelope per line) or Parquet files (columns {@code id, type, ts, attrs}), with the same
 * validation as Kafka records. Imported rows get the import's start as their ingest time, and a
 * recompute's cutoff is held at or before it while the import is under way, so they join the views
 * at the first recompute whose cutoff passes it. Each import is its own folder, written aside and
 * moved into the dataset whole once complete; one whose every row is rejected (a wrong
 * {@code --format} or columns) fails and leaves nothing.
 */
public final class FileImport {

    private static final Logger LOG = LoggerFactory.getLogger(FileImport.class);

    private FileImport() {
    }

    public static void run(SparkSession spark, BatchConfig config, Progress progress) {
        Instant now = Instant.now();
        MasterDataset master = new MasterDataset(config.master());
        String importId = MasterDataset.importId(now);
        master.beginImport(spark, importId);
        // a sign of life while it runs: a recompute takes an import silent for long for killed, and removes it
        ScheduledExecutorService renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "import-alive");
            t.setDaemon(true);
            return t;
        });
        long every = MasterDataset.IMPORT_RENEWAL.toMillis();
        renewals.scheduleWithFixedDelay(() -> {
            try {
                master.renewImport(spark, importId);
            } catch (IllegalStateException e) { // removed as abandoned: no more renewals, and the publish will refuse
                LOG.error("import {}: {}", importId, e.getMessage());
                throw e;
            } catch (RuntimeException e) { // a passing failure of the file system: the next renewal may land
                LOG.warn("import {}: {}", importId, e.getMessage());
            }
        }, every, every, TimeUnit.MILLISECONDS);
        Runnable stopRenewals = () -> {
            renewals.shutdownNow();
            try {
                // one still writing would mark the folder under way again after it is published or removed
                if (!renewals.awaitTermination(1, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the import's sign of life did not stop within a minute");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping the import's sign of life", e);
            }
        };
        try {
            importAndPublish(spark, config, progress, master, importId, now, stopRenewals);
        } finally {
            renewals.shutdownNow();
        }
    }

    private static void importAndPublish(SparkSession spark, BatchConfig config, Progress progress, MasterDataset master,
                                         String importId, Instant now, Runnable stopRenewals) {
        long total;
        List<Row> rejected;
        try {
            Dataset<Row> values = config.importFormat().equals("json")
                    ? spark.read().text(config.importPath()).select(col("value").cast("binary").as("value"))
                    : parquetAsEnvelopes(spark.read().parquet(config.importPath()));
            Dataset<Row> rows = toMasterRows(values, Timestamp.from(now), config.futureTolerance());
            String path = master.importUnderWayPath(importId);
            rows.write().mode(SaveMode.Append).partitionBy("ingest_date").parquet(path);
            Dataset<Row> written = spark.read().schema(rows.schema()).parquet(path);
            total = written.count();
            rejected = written.filter(col("valid").equalTo(false)).groupBy(col("reject_reason"))
                    .agg(functions.count(lit(1)).as("rows"), functions.first(col("reject_detail")).as("example"))
                    .orderBy(col("rows").desc()).collectAsList();
        } catch (Exception e) { // Spark's AnalysisException (a missing path, say) is a checked exception thrown unchecked
            try {
                stopRenewals.run();
            } catch (RuntimeException stop) {
                e.addSuppressed(stop);
            }
            master.discardImport(spark, importId); // a failed import holds no cutoff back; a killed one does, until it goes silent
            throw e instanceof RuntimeException r ? r : new IllegalArgumentException(e.getMessage(), e);
        }
        long rejectedRows = rejected.stream().mapToLong(r -> r.getLong(1)).sum();
        try {
            stopRenewals.run(); // from here on it is published or discarded at once
        } catch (RuntimeException e) {
            master.discardImport(spark, importId);
            throw e;
        }
        if (rejectedRows == total) {
            master.discardImport(spark, importId);
            throw new IllegalArgumentException(total == 0 ? "no rows in " + config.importPath() + ": nothing imported"
                    : "every one of the " + total + " rows of " + config.importPath() + " was rejected (" + reasons(rejected)
                    + "): nothing imported; check --format (" + config.importFormat() + ") and the files' columns");
        }
        try {
            master.publishImport(spark, importId);
        } catch (RuntimeException e) {
            master.discardImport(spark, importId);
            throw e;
        }
        progress.line("import", total, "rows imported to " + master.importPath(importId) + " (" + rejectedRows + " rejected, kept flagged"
                + (rejected.isEmpty() ? "" : ": " + reasons(rejected)) + ")");
    }

    /** Rejected rows by reason, with the detail of one of each: {@code BAD_TS 3 (e.g. ...)}. */
    private static String reasons(List<Row> byReason) {
        return byReason.stream().map(r -> r.getString(0) + " " + r.getLong(1) + " (e.g. " + r.getString(2) + ")")
                .collect(Collectors.joining(", "));
    }

    /**
     * Parquet rows (id, type, ts as timestamp or ISO text, attrs) as the JSON envelope the shared
     * parser validates. A timestamp without a time zone (pandas' and pyarrow's default) is read as UTC.
     */
    static Dataset<Row> parquetAsEnvelopes(Dataset<Row> rows) {
        DataType type = rows.schema().apply("ts").dataType();
        Column ts = type instanceof TimestampNTZType ? col("ts").cast(DataTypes.TimestampType) : col("ts");
        // timestamps are written as ISO-8601 with offset (the session zone is UTC); text goes through as it is
        if (type instanceof TimestampType || type instanceof TimestampNTZType) {
            ts = functions.date_format(ts, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        }
        return rows.select(functions.to_json(functions.struct(col("id"), col("type"), ts.as("ts"), col("attrs"))).cast("binary").as("value"));
    }

    /** Imported values as master rows: no Kafka position (partition -1, offset = row number in the import). */
    public static Dataset<Row> toMasterRows(Dataset<Row> values, Timestamp importTime, java.time.Duration futureTolerance) {
        return values
                .withColumn("kafka_partition", lit(-1))
                .withColumn("kafka_offset", functions.monotonically_increasing_id())
                .withColumn("ingest_ts", lit(importTime))
                .select(col("kafka_partition"), col("kafka_offset"), col("ingest_ts"), col("value"),
                        EnvelopeColumns.parse(col("value"), col("ingest_ts"), futureTolerance).as("envelope"))
                .select(col("kafka_partition"), col("kafka_offset"), col("ingest_ts"), col("value"), col("envelope.*"))
                .withColumn("ingest_date", functions.to_date(col("ingest_ts")));
    }
}
