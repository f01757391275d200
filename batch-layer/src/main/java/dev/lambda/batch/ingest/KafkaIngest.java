package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;

import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.Progress;
import java.time.Instant;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;

/**
 * {@code ingest}: appends every Kafka record not yet archived to the master dataset, with
 * Structured Streaming ({@code trigger(availableNow)}) and a checkpoint, so a re-run after a crash
 * continues where the last committed batch ended and never writes a record twice. Offsets that
 * retention already deleted fail the run ({@code failOnDataLoss}): the dataset never silently skips.
 * Only {@code --accept-gap}, given for one run once the missing events were imported (or written
 * off), goes on from the oldest record Kafka still has.
 */
public final class KafkaIngest {

    private KafkaIngest() {
    }

    /** The Kafka records as master rows (pure: a transform of the Kafka source's columns). */
    public static Dataset<Row> toMasterRows(Dataset<Row> kafkaRecords, java.time.Duration futureTolerance) {
        return kafkaRecords
                .select(col("partition").as("kafka_partition"), col("offset").as("kafka_offset"), col("timestamp").as("ingest_ts"),
                        col("value"), EnvelopeColumns.parse(col("value"), col("timestamp"), futureTolerance).as("envelope"))
                .select(col("kafka_partition"), col("kafka_offset"), col("ingest_ts"), col("value"), col("envelope.*"))
                .withColumn("ingest_date", functions.to_date(col("ingest_ts")));
    }

    /** @return when this ingest started (everything appended to Kafka before it is now archived) */
    public static Instant run(SparkSession spark, BatchConfig config, Progress progress) {
        Instant start = Instant.now();
        MasterDataset master = new MasterDataset(config.master());
        var reader = spark.readStream().format("kafka")
                .option("kafka.bootstrap.servers", config.kafka().bootstrapServers())
                .option("subscribe", config.topic())
                .option("startingOffsets", "earliest")
                .option("failOnDataLoss", Boolean.toString(!config.acceptGap()))
                .option("maxOffsetsPerTrigger", Long.toString(config.ingestBatchRecords()))
                .option("includeHeaders", "false");
        for (var p : config.kafka().clientProperties().entrySet()) {
            reader = reader.option("kafka." + p.getKey(), p.getValue());
        }
        Dataset<Row> rows = toMasterRows(reader.load(), config.futureTolerance());
        try {
            StreamingQuery query = rows.writeStream()
                    .format("parquet")
                    .option("path", master.kafkaPath())
                    .option("checkpointLocation", config.checkpoint())
                    .partitionBy("ingest_date")
                    .trigger(Trigger.AvailableNow())
                    .queryName("lambda-ingest")
                    .start();
            query.awaitTermination();
            long records = 0;
            for (var p : query.recentProgress()) {
                records += p.numInputRows();
            }
            progress.line("ingest", records, "records appended to " + master.kafkaPath());
        } catch (TimeoutException | StreamingQueryException e) {
            String gap = gap(e);
            if (gap != null) {
                throw new IllegalStateException("Kafka topic " + config.topic() + " no longer holds records that were never archived ("
                        + gap + "; retention or a deletion removed them), so nothing was appended: the master dataset would have a gap."
                        + " Import those events if they exist elsewhere (import --input), then run ingest once with --accept-gap to go on"
                        + " from the oldest records Kafka still has", e);
            }
            throw new IllegalStateException("ingest from Kafka topic " + config.topic() + " failed: " + rootMessage(e), e);
        }
        master.recordIngestStart(spark, start);
        return start;
    }

    /** Where records were lost, if that is why the ingest failed; otherwise {@code null}. */
    static String gap(Throwable e) {
        boolean sparkSaysLost = false;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OffsetOutOfRangeException out) {
                return out.offsetOutOfRangePartitions().entrySet().stream()
                        .map(p -> "partition " + p.getKey().partition() + " from offset " + p.getValue()).sorted()
                        .collect(Collectors.joining(", "));
            }
            // Spark's own comparison of the checkpoint with the offsets Kafka still has
            sparkSaysLost |= t.getMessage() != null && t.getMessage().contains("data may have been lost");
        }
        return sparkSaysLost ? "Spark found offsets missing" : null;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
