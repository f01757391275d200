package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;

import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.Progress;
import dev.lambda.common.kafka.EventsTopic;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.Trigger;

/**
 * {@code ingest}: appends every Kafka record not yet archived to the master dataset, with
 * Structured Streaming ({@code trigger(availableNow)}) and a checkpoint, so a re-run after a crash
 * continues where the last committed batch ended and never writes a record twice. Offsets that
 * retention already deleted fail the run ({@code failOnDataLoss}): the dataset never silently skips.
 * Only {@code --accept-gap}, given for one run once the missing events were imported (or written
 * off), goes on from the oldest record Kafka still has. Reads committed records only, as the
 * speed layer does.
 */
public final class KafkaIngest {

    private static final String DATA_LOSS = "KAFKA_DATA_LOSS";
    private static final String QUERY_NAME = "lambda-ingest";
    /** Beside the checkpoint: the id of the topic it was written for. */
    private static final String TOPIC_ID_FILE = "lambda-topic-id";
    /** Spark's conditions for records the checkpoint expects that Kafka deleted. */
    private static final Set<String> GAP_CONDITIONS = Set.of(DATA_LOSS + ".COULD_NOT_READ_OFFSET_RANGE", DATA_LOSS + ".START_OFFSET_RESET",
            DATA_LOSS + ".ADDED_PARTITION_DOES_NOT_START_FROM_OFFSET_ZERO");

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

    /**
     * @return when this ingest started or, if earlier, when the first record of a transaction still
     *         open then was appended: every record appended to Kafka before it is now archived or
     *         aborted, and the next cutoff may not pass it (DESIGN §4)
     */
    public static Instant run(SparkSession spark, BatchConfig config, Progress progress) {
        // taken before Spark reads the end offsets: what was open now is open then, or committed and read
        Instant start = Instant.now();
        Instant complete = start;
        for (var open : EventsTopic.openTransactionStarts(config.kafka(), config.topic()).entrySet()) {
            if (open.getValue().isBefore(start)) { // one whose first record came after the start holds nothing back
                progress.line("ingest", 0, "partition " + open.getKey() + " has a transaction open since " + open.getValue()
                        + ": its records are archived by the first ingest after it commits, and the next cutoff stays before them"
                        + " (kafka-transactions.sh lists open transactions; one left hanging holds the cutoff until it is aborted)");
                complete = open.getValue().isBefore(complete) ? open.getValue() : complete;
            }
        }
        if (config.acceptGap()) {
            progress.line("ingest", 0, "--accept-gap: records Kafka deleted before they were archived are skipped (Spark logs the ranges)");
        }
        MasterDataset master = new MasterDataset(config.master());
        boolean firstIngest = isFirst(spark, config.checkpoint());
        requireSameTopic(spark, config, master, firstIngest);
        requireMasterHoldsCheckpoint(spark, config, master);
        if (firstIngest) {
            // no checkpoint to find the loss by: what retention removed before any ingest is the same gap
            Set<String> trimmed = new TreeSet<>();
            EventsTopic.firstOffsets(config.kafka(), config.topic()).forEach((partition, first) -> {
                if (first > 0) {
                    trimmed.add("partition " + partition + " from offset 0 to " + (first - 1));
                }
            });
            if (!trimmed.isEmpty() && !config.acceptGap()) {
                throw new IllegalStateException("first ingest: Kafka topic " + config.topic() + " no longer holds its oldest records ("
                        + String.join(", ", trimmed) + "; retention or a deletion removed them before any ingest). Import those events if"
                        + " they exist elsewhere (import --input), then run ingest once with --accept-gap to start from the oldest records"
                        + " Kafka still has");
            }
            trimmed.forEach(t -> progress.line("ingest", 0, "--accept-gap: first ingest, " + t + " deleted before it"));
        }
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
        // what the speed layer (exactly-once) sees: records of aborted transactions never count, and
        // those of open ones wait until they commit (the ingest reads up to the last stable offset)
        reader = reader.option("kafka." + ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Dataset<Row> rows = toMasterRows(reader.load(), config.futureTolerance());
        // counted as each micro-batch ends: the query's own recentProgress keeps only its last 100
        AppendedRecords appended = new AppendedRecords();
        spark.streams().addListener(appended);
        try {
            StreamingQuery query = rows.writeStream()
                    .format("parquet")
                    .option("path", master.kafkaPath())
                    .option("checkpointLocation", config.checkpoint())
                    .partitionBy("ingest_date")
                    .trigger(Trigger.AvailableNow())
                    .queryName(QUERY_NAME)
                    .start();
            query.awaitTermination();
            progress.line("ingest", appended.total(), "records appended to " + master.kafkaPath());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("ingest interrupted", e);
        } catch (TimeoutException | StreamingQueryException e) {
            String loss = lossMessage(config.topic(), e);
            if (loss != null) {
                throw new IllegalStateException(loss, e);
            }
            throw new IllegalStateException("ingest from Kafka topic " + config.topic() + " failed: " + rootMessage(e), e);
        } finally {
            spark.streams().removeListener(appended);
        }
        master.recordIngestStart(spark, complete);
        return complete;
    }

    /**
     * Refuses to go on where the checkpoint's offsets do not belong to the topic: a topic deleted and
     * created again starts its offsets over, and Spark would skip its records up to the offsets the
     * checkpoint reached without a word; and a new checkpoint over a dataset another one wrote would
     * number its writes from 0 again, which the file sink takes for writes it already has and skips.
     * Records the topic's id beside the checkpoint when it has none (its first ingest, or one of a
     * release before the id was recorded).
     */
    private static void requireSameTopic(SparkSession spark, BatchConfig config, MasterDataset master, boolean first) {
        String id = EventsTopic.topicId(config.kafka(), config.topic());
        Path file = new Path(config.checkpoint(), TOPIC_ID_FILE);
        String advice = " A re-created topic is archived into a master dataset of its own: run ingest with a new --master and --checkpoint"
                + " (README, Re-creating the events topic)";
        try {
            FileSystem fs = file.getFileSystem(spark.sessionState().newHadoopConf());
            if (fs.exists(file)) {
                String recorded;
                try (var in = fs.open(file)) {
                    recorded = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
                }
                if (!recorded.equals(id)) {
                    throw new IllegalStateException("Kafka topic " + config.topic() + " is not the topic the ingest checkpoint "
                            + config.checkpoint() + " was written for (topic id " + recorded + ", now " + id + "): it was deleted and"
                            + " created again, so its offsets started over, and the ingest would skip its records up to the offsets the"
                            + " checkpoint reached." + advice);
                }
                return;
            }
            if (first && fs.exists(new Path(master.kafkaPath(), "_spark_metadata"))) {
                throw new IllegalStateException("the ingest checkpoint " + config.checkpoint() + " is new, but " + master.kafkaPath()
                        + " holds records archived under another one: the file sink numbers its writes from the checkpoint, and would take"
                        + " the new ones for writes it already has and skip them. Give the --checkpoint those records were archived with."
                        + advice);
            }
            try (var out = fs.create(file, true)) {
                out.write(id.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        }
    }

    /**
     * Refuses a checkpoint that committed batches the master dataset's log does not have: a
     * checkpoint kept apart from the master, then given a new master, or a master restored from an
     * older copy. Spark would go on from the checkpoint's offsets, and the records of those batches
     * would be missing from the master without a word. And the other way round, a checkpoint behind
     * the log (restored from an older copy): the sink skips batch ids it has, and the batches the
     * checkpoint plans again under those ids hold other offsets. The sink commits a batch before
     * the checkpoint does, so after a crash between the two the log is one planned batch ahead.
     */
    private static void requireMasterHoldsCheckpoint(SparkSession spark, BatchConfig config, MasterDataset master) {
        Path commits = new Path(config.checkpoint(), "commits");
        Path sinkLog = new Path(master.kafkaPath(), "_spark_metadata");
        try {
            FileSystem fs = commits.getFileSystem(spark.sessionState().newHadoopConf());
            long committed = newestBatch(fs, commits);
            long archived = newestBatch(sinkLog.getFileSystem(spark.sessionState().newHadoopConf()), sinkLog);
            String advice = " Give the --master and --checkpoint of one ingest, or a new --checkpoint with a new --master to archive what"
                    + " Kafka still holds anew";
            if (committed > archived) {
                throw new IllegalStateException("the ingest checkpoint " + config.checkpoint() + " has archived up to batch " + committed
                        + ", but " + master.kafkaPath() + (archived < 0 ? " holds no batch of it" : " holds batches up to " + archived
                        + " of it") + ": a new --master, or one restored from an older copy, with the checkpoint of another. Going on from"
                        + " the checkpoint's offsets would leave the records of the missing batches out." + advice);
            }
            // one batch ahead is a crash between the two commits: the checkpoint planned it, and reads the same offsets again
            boolean planned = archived == committed + 1 && fs.exists(new Path(new Path(config.checkpoint(), "offsets"), Long.toString(archived)));
            if (archived > committed && !planned) {
                throw new IllegalStateException("the ingest checkpoint " + config.checkpoint() + " has archived up to batch " + committed
                        + ", but " + master.kafkaPath() + " holds batches up to " + archived + ": a checkpoint restored from an older copy,"
                        + " or another one's. The file sink would take the checkpoint's next batches for ones it has and skip them, and"
                        + " their records would be missing." + advice);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + commits + " or " + sinkLog, e);
        }
    }

    /** The newest batch id in a Spark metadata log directory ({@code N} or {@code N.compact} files); -1 if none. */
    private static long newestBatch(FileSystem fs, Path log) throws IOException {
        if (!fs.exists(log)) {
            return -1;
        }
        long newest = -1;
        for (var file : fs.listStatus(log)) {
            String name = file.getPath().getName();
            String id = name.endsWith(".compact") ? name.substring(0, name.length() - ".compact".length()) : name;
            if (!id.isEmpty() && id.chars().allMatch(Character::isDigit)) {
                newest = Math.max(newest, Long.parseLong(id));
            }
        }
        return newest;
    }

    /**
     * The records of every micro-batch of the ingest query. Spark tells listeners after the fact, in
     * order: once it told the query's end, it told every micro-batch.
     */
    private static final class AppendedRecords extends StreamingQueryListener {
        private final AtomicLong records = new AtomicLong();
        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile UUID runId;

        @Override
        public void onQueryStarted(QueryStartedEvent event) {
            if (QUERY_NAME.equals(event.name())) {
                runId = event.runId();
            }
        }

        @Override
        public void onQueryProgress(QueryProgressEvent event) {
            if (event.progress().runId().equals(runId)) {
                records.addAndGet(event.progress().numInputRows());
            }
        }

        @Override
        public void onQueryTerminated(QueryTerminatedEvent event) {
            if (event.runId().equals(runId)) {
                ended.countDown();
            }
        }

        /** The records appended, once Spark told the query's end (or a few seconds passed). */
        long total() throws InterruptedException {
            ended.await(5, TimeUnit.SECONDS);
            return records.get();
        }
    }

    /** Whether no ingest has committed anything to this checkpoint yet. */
    private static boolean isFirst(SparkSession spark, String checkpoint) {
        Path offsets = new Path(checkpoint, "offsets");
        try {
            FileSystem fs = offsets.getFileSystem(spark.sessionState().newHadoopConf());
            return !fs.exists(offsets) || fs.listStatus(offsets).length == 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the ingest checkpoint " + checkpoint, e);
        }
    }

    /**
     * What to tell the operator when the ingest failed because the topic no longer matches the
     * checkpoint; {@code null} when that is not why. Records gone before they were archived (a gap)
     * differ from offsets that went back (a re-created topic, a checkpoint of another cluster).
     */
    static String lossMessage(String topic, Throwable e) {
        Set<String> lost = new TreeSet<>();
        String condition = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OffsetOutOfRangeException out) {
                out.offsetOutOfRangePartitions().forEach((p, offset) -> lost.add("partition " + p.partition() + " from offset " + offset));
            }
            if (t instanceof SparkThrowable spark && spark.getCondition() != null && spark.getCondition().startsWith(DATA_LOSS)) {
                condition = spark.getCondition();
            }
        }
        if (!lost.isEmpty() || (condition != null && GAP_CONDITIONS.contains(condition))) { // Set.of refuses to look for null
            return "Kafka topic " + topic + " no longer holds records that were never archived ("
                    + (lost.isEmpty() ? condition : String.join(", ", lost)) + "; retention or a deletion removed them), so the ingest"
                    + " stopped there: the master dataset would have a gap. Import those events if they exist elsewhere (import --input), then"
                    + " run ingest once with --accept-gap to go on from the oldest records Kafka still has";
        }
        if (condition != null) {
            return "Kafka topic " + topic + " does not match the ingest checkpoint (" + condition + "): its offsets went back or"
                    + " partitions disappeared, as when the topic is re-created or the checkpoint belongs to another cluster; the ingest"
                    + " stopped there. A new topic is archived into a master dataset of its own (a new --master and --checkpoint: README,"
                    + " Re-creating the events topic); --accept-gap would skip records Kafka still has";
        }
        return null;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
