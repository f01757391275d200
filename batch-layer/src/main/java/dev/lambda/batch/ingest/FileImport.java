package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.lambda.batch.Progress;
import dev.lambda.batch.config.BatchConfig;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.ZoneOffset;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * {@code import}: backfills history that never went through Kafka from JSON-lines files (one
 * envelope per line) or Parquet files (columns {@code id, type, ts, attrs}), with the same
 * validation as Kafka records. Imported rows get the import time as their ingest time, so they
 * join the views at the first recompute whose cutoff passes it; each import is its own folder,
 * written completely or not at all.
 */
public final class FileImport {

    private FileImport() {
    }

    public static void run(SparkSession spark, BatchConfig config, Progress progress) {
        Instant now = Instant.now();
        String importId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC).format(now);
        Dataset<Row> values = config.importFormat().equals("json")
                ? spark.read().text(config.importPath()).select(col("value").cast("binary").as("value"))
                : parquetAsEnvelopes(spark.read().parquet(config.importPath()));
        Dataset<Row> rows = toMasterRows(values, Timestamp.from(now), config.futureTolerance());
        String path = new MasterDataset(config.master()).importPath(importId);
        rows.write().mode(SaveMode.ErrorIfExists).partitionBy("ingest_date").parquet(path);
        Dataset<Row> written = spark.read().parquet(path);
        long total = written.count();
        long rejected = written.filter(col("valid").equalTo(false)).count();
        progress.line("import", total, "rows imported to " + path + " (" + rejected + " rejected, kept flagged)");
    }

    /** Parquet rows (id, type, ts as timestamp or ISO text, attrs) as the JSON envelope the shared parser validates. */
    static Dataset<Row> parquetAsEnvelopes(Dataset<Row> rows) {
        boolean timestamp = rows.schema().apply("ts").dataType() instanceof org.apache.spark.sql.types.TimestampType;
        // timestamps are written as ISO-8601 with offset (the session zone is UTC); text goes through as it is
        org.apache.spark.sql.Column ts = timestamp ? functions.date_format(col("ts"), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX") : col("ts");
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
