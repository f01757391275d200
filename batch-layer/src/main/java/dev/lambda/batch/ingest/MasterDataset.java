package dev.lambda.batch.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The immutable master dataset (DESIGN §1, §7): Parquet, append-only, partitioned by ingest date.
 * {@code kafka/} is written by the ingest stream (its file-sink log makes appends exactly-once);
 * {@code imported/} holds backfills, one folder per import. Every row keeps its source position:
 * Kafka partition, offset and timestamp (the ingest time), and the raw value, with the parsed
 * envelope alongside. Any Hadoop file system path works (local, {@code hdfs://}, {@code s3a://}).
 */
public final class MasterDataset {

    /** Columns of every master row, in order. */
    public static final String[] COLUMNS = {"kafka_partition", "kafka_offset", "ingest_ts", "value", "valid", "reject_reason",
        "reject_detail", "event_id", "event_type", "event_ts", "attrs", "parser_version", "ingest_date"};

    private final String root;

    public MasterDataset(String root) {
        this.root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    }

    public String kafkaPath() {
        return root + "/kafka";
    }

    public String importPath(String importId) {
        return root + "/imported/import_id=" + importId;
    }

    /** Every row of the master dataset; only files committed by the ingest stream or a finished import. */
    public Dataset<Row> read(SparkSession spark) {
        Dataset<Row> all = null;
        for (String path : new String[] {kafkaPath(), root + "/imported"}) {
            if (exists(spark, path)) {
                // files of releases before parser_version was recorded lack the column: every file's
                // schema is merged, so that it is null for their rows (and present for the others)
                Dataset<Row> part = spark.read().option("mergeSchema", "true").parquet(path);
                if (!java.util.Arrays.asList(part.columns()).contains("parser_version")) {
                    part = part.withColumn("parser_version", functions.lit(null).cast("int"));
                }
                part = part.select(java.util.Arrays.stream(COLUMNS).map(functions::col).toArray(org.apache.spark.sql.Column[]::new));
                all = all == null ? part : all.unionByName(part);
            }
        }
        if (all == null) {
            throw new IllegalStateException("the master dataset at " + root + " is empty: run ingest or import first");
        }
        return all;
    }

    /** When the last successful ingest started: everything Kafka appended before it is in the dataset. */
    public Optional<Instant> lastIngestStart(SparkSession spark) {
        Path marker = new Path(root + "/_ingest_state/last_start");
        try {
            FileSystem fs = marker.getFileSystem(conf(spark));
            if (!fs.exists(marker)) {
                return Optional.empty();
            }
            try (FSDataInputStream in = fs.open(marker)) {
                return Optional.of(Instant.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + marker, e);
        }
    }

    public void recordIngestStart(SparkSession spark, Instant start) {
        Path marker = new Path(root + "/_ingest_state/last_start");
        Path temp = new Path(root + "/_ingest_state/last_start.tmp");
        try {
            FileSystem fs = marker.getFileSystem(conf(spark));
            try (FSDataOutputStream out = fs.create(temp, true)) {
                out.write(start.toString().getBytes(StandardCharsets.UTF_8));
            }
            fs.delete(marker, false);
            if (!fs.rename(temp, marker)) {
                throw new IOException("rename to " + marker + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + marker, e);
        }
    }

    private static boolean exists(SparkSession spark, String path) {
        Path p = new Path(path);
        try {
            return p.getFileSystem(conf(spark)).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look at " + path, e);
        }
    }

    private static Configuration conf(SparkSession spark) {
        return spark.sparkContext().hadoopConfiguration();
    }
}
