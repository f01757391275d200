package dev.lambda.batch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.batch.Main;
import dev.lambda.batch.Progress;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.ingest.FileImport;
import dev.lambda.batch.ingest.KafkaIngest;
import dev.lambda.batch.ingest.MasterDataset;
import dev.lambda.batch.recompute.GenerationCleanup;
import dev.lambda.batch.recompute.Publisher;
import dev.lambda.batch.recompute.Recompute;
import dev.lambda.batch.spark.SparkSessions;
import dev.lambda.batch.testing.MasterRows;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.BatchGeneration;
import dev.lambda.common.cassandra.BatchGenerationsTable;
import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.kafka.EventsTopic;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The batch layer on real Kafka, Cassandra and local Spark. */
@ExtendWith(LocalClusterExtension.class)
class BatchLayerIT {

    /** As a multi-datacenter deployment runs it: replication per datacenter, rows and publish at EACH_QUORUM. */
    @Test
    void ingestThenRecomputePublishesAnExactGeneration(LocalCluster cluster, @TempDir Path dir) throws Exception {
        Replication perDatacenter = Replication.parse(cluster.cassandra().localDatacenter() + ":1");
        try (BatchFixture f = new BatchFixture(cluster, "exact", dir, 1, perDatacenter)) {
            f.produce(2_500);
            Thread.sleep(1_100); // so the cutoff (a 1 s slot boundary before the ingest started) passes every record
            Main.run(f.config("run", "--write-consistency", "each_quorum"), BatchFixture.VIEWS);

            ViewState state = f.published("sales");
            assertTrue(f.sent.stream().allMatch(e -> e.ingest().isBefore(state.cutoff())), "every record is before T");
            List<String> diffs = f.differences(state.generation(), state.cutoff());
            assertTrue(diffs.isEmpty(), diffs.size() + " differences, e.g. " + diffs.subList(0, Math.min(8, diffs.size())));
            long valid = f.sent.stream().filter(e -> e.valid()).count();
            long distinctIds = f.sent.stream().filter(e -> e.valid()).map(e -> e.id()).distinct().count();
            assertEquals(valid, state.eventsIn());
            assertEquals(valid - distinctIds, state.duplicatesDropped());
            ViewDefinition sales = BatchFixture.VIEWS.find("sales").orElseThrow();
            assertEquals(List.of(state.cutoff()), new BatchGenerationsTable(f.session, f.keyspace()).list(sales.name(), sales.version())
                    .toCompletableFuture().join().stream().filter(g -> g.generation() == state.generation()).map(BatchGeneration::cutoff).toList(),
                    "the published generation is recorded with its cutoff");

            SparkSession spark = SparkSessions.create(f.config("recompute"));
            List<Row> master = new MasterDataset(f.master.toString()).read(spark).collectAsList();
            assertEquals(f.sent.size(), master.size(), "one master row per Kafka record");
            assertEquals(f.malformed, master.stream().filter(r -> !r.getBoolean(r.fieldIndex("valid"))).count(), "rejects kept, flagged");
            spark.stop();
        }
    }

    @Test
    void anIngestRefusesATopicWithProducerTimestampsBeforeArchivingAnything(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic("batch_create_time", 1, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime"))));
        }
        try (BatchFixture f = new BatchFixture(cluster, "create_time", dir, 5)) { // the topic exists: it stays CreateTime
            ConfigException e = assertThrows(ConfigException.class, () -> Main.run(f.config("run"), BatchFixture.VIEWS));
            assertTrue(e.getMessage().contains("Kafka topic batch_create_time has message.timestamp.type=CreateTime"), e.getMessage());
            assertFalse(Files.exists(f.master), "nothing archived");
        }
    }

    @Test
    void anIngestFailsLoudlyWhenKafkaDeletedRecordsItHadNotArchived(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "gap", dir, 6)) {
            f.produce(300);
            TopicPartition p1 = new TopicPartition(f.topic(), 1);
            try (Admin admin = cluster.kafka().admin()) { // retention ran before the first ingest: no checkpoint shows it, Kafka does
                admin.deleteRecords(Map.of(p1, RecordsToDelete.beforeOffset(5))).all().get();
            }
            RuntimeException trimmed = assertThrows(RuntimeException.class, () -> Main.run(f.config("ingest"), BatchFixture.VIEWS));
            assertTrue(trimmed.getMessage().startsWith("first ingest: Kafka topic batch_gap no longer holds its oldest records (partition 1"
                    + " from offset 0 to 4;") && trimmed.getMessage().contains("--accept-gap"), trimmed.getMessage());
            assertFalse(Files.exists(f.master.resolve("kafka")), "nothing archived");
            ByteArrayOutputStream firstRun = new ByteArrayOutputStream();
            BatchConfig first = f.config("ingest", "--accept-gap");
            SparkSession spark = SparkSessions.create(first);
            try {
                KafkaIngest.run(spark, first, new Progress(new PrintStream(firstRun, true, StandardCharsets.UTF_8)));
            } finally {
                spark.stop();
            }
            assertTrue(firstRun.toString(StandardCharsets.UTF_8).contains("--accept-gap: first ingest, partition 1 from offset 0 to 4 deleted"),
                    firstRun.toString(StandardCharsets.UTF_8));
            f.produce(300);
            TopicPartition p0 = new TopicPartition(f.topic(), 0);
            long deletedBefore;
            try (Admin admin = cluster.kafka().admin()) { // retention runs before the next ingest
                deletedBefore = admin.listOffsets(Map.of(p0, OffsetSpec.latest())).partitionResult(p0).get().offset();
                admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(deletedBefore))).all().get();
            }
            RuntimeException e = assertThrows(RuntimeException.class, () -> Main.run(f.config("ingest"), BatchFixture.VIEWS));
            assertTrue(e.getMessage().startsWith("Kafka topic batch_gap no longer holds records that were never archived (partition 0 from offset")
                    && e.getMessage().contains("--accept-gap"), e.getMessage());
            assertEquals(295, masterOffsets(f).size(), "nothing appended by the failed run");

            Main.run(f.config("ingest", "--accept-gap"), BatchFixture.VIEWS); // the operator accepts the gap
            f.produce(100);
            Main.run(f.config("ingest"), BatchFixture.VIEWS); // and goes back to plain ingests
            long firstLost = firstLost(e);
            List<String> expected = f.sent.stream().filter(r -> r.partition() != 0 || r.offset() < firstLost || r.offset() >= deletedBefore)
                    .filter(r -> r.partition() != 1 || r.offset() >= 5)
                    .map(r -> r.partition() + "/" + r.offset()).sorted().toList();
            assertEquals(expected, masterOffsets(f).stream().sorted().toList(),
                    "everything Kafka still had, once; the deleted records of partitions 0 and 1 missing");
        }
    }

    /**
     * Committed records only, as the speed layer reads; and a transaction open during an ingest holds
     * the next cutoff before its records, which keep their append times when it commits later.
     */
    @Test
    void anIngestArchivesOnlyWhatTransactionalProducersCommitted(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "transactions", dir, 8);
             KafkaProducer<byte[], byte[]> committer = transactional(cluster, "committer");
             KafkaProducer<byte[], byte[]> pending = transactional(cluster, "pending")) {
            f.produce(50); // a plain producer too
            sendInTransaction(committer, f.topic(), "aborted-", 40, false);
            sendInTransaction(committer, f.topic(), "committed-", 40, true);
            pending.beginTransaction(); // still open when the ingest runs: the speed layer does not see it yet either
            Instant firstPending = sendAll(pending, f.topic(), "late-", 20);
            Thread.sleep(1_100); // so a cutoff from the ingest's start alone (1 s slots, no margin) would pass the open records
            Main.run(f.config("run"), BatchFixture.VIEWS);
            assertEquals(expectedIds(f, List.of("committed-")), masterIds(f), "committed records only; none of the open transaction yet");
            Instant cutoff = f.published("sales").cutoff();
            assertFalse(cutoff.isAfter(firstPending), "cutoff " + cutoff + " leaves the open transaction's records, appended from "
                    + firstPending + ", to the speed layer once they commit");

            pending.commitTransaction();
            Thread.sleep(1_100);
            Main.run(f.config("run"), BatchFixture.VIEWS);
            assertEquals(expectedIds(f, List.of("committed-", "late-")), masterIds(f), "the open transaction once committed");
            ViewState state = f.published("sales");
            assertTrue(state.cutoff().isAfter(firstPending), "once committed, the cutoff passes them: " + state.cutoff());
            assertEquals(expectedIds(f, List.of("committed-", "late-")).size(), state.eventsIn(), "each counted once by the batch");
        }
    }

    private static KafkaProducer<byte[], byte[]> transactional(LocalCluster cluster, String id) {
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "batch-it-" + id,
                // a transaction the test holds open across Spark runs: the 1 min default could abort it on a slow machine
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000), new ByteArraySerializer(), new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }

    private static void sendInTransaction(KafkaProducer<byte[], byte[]> producer, String topic, String prefix, int n, boolean commit)
            throws Exception {
        producer.beginTransaction();
        sendAll(producer, topic, prefix, n);
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.abortTransaction();
        }
    }

    /** @return the broker's append time of the first record sent */
    private static Instant sendAll(KafkaProducer<byte[], byte[]> producer, String topic, String prefix, int n) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String json = "{\"id\":\"" + prefix + i + "\",\"type\":\"purchase\",\"ts\":\"" + Instant.now() + "\",\"attrs\":{}}";
            acks.add(producer.send(new ProducerRecord<>(topic, i % 3, null, json.getBytes(StandardCharsets.UTF_8))));
        }
        producer.flush();
        Instant first = Instant.MAX;
        for (Future<RecordMetadata> ack : acks) {
            Instant appended = Instant.ofEpochMilli(ack.get(30, TimeUnit.SECONDS).timestamp());
            first = appended.isBefore(first) ? appended : first;
        }
        return first;
    }

    /** The ids of the plain producer's valid records and of the transactional ones with these prefixes, sorted. */
    private static List<String> expectedIds(BatchFixture f, List<String> prefixes) {
        Stream<String> transactional = prefixes.stream().flatMap(p -> java.util.stream.IntStream.range(0, p.equals("late-") ? 20 : 40)
                .mapToObj(i -> p + i));
        return Stream.concat(f.sent.stream().filter(MasterRows.Event::valid).map(MasterRows.Event::id), transactional).sorted().toList();
    }

    private static List<String> masterIds(BatchFixture f) {
        SparkSession spark = SparkSessions.create(f.config("recompute"));
        try {
            return new MasterDataset(f.master.toString()).read(spark).filter("valid").select("event_id").collectAsList().stream()
                    .map(r -> r.getString(0)).sorted().toList();
        } finally {
            spark.stop();
        }
    }

    @Test
    void aReCreatedTopicIsRefusedRatherThanSkippedUpToTheCheckpointsOffsets(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "recreated", dir, 8)) {
            f.produce(150);
            Main.run(f.config("ingest"), BatchFixture.VIEWS);
            List<String> archived = masterOffsets(f, f.master);
            assertEquals(150, archived.size());
            try (Admin admin = cluster.kafka().admin()) {
                admin.deleteTopics(List.of(f.topic())).all().get(30, TimeUnit.SECONDS);
                NewTopic again = new NewTopic(f.topic(), 3, (short) 1)
                        .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"));
                long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (true) { // the deletion completes in the background
                    try {
                        admin.createTopics(List.of(again)).all().get(30, TimeUnit.SECONDS);
                        break;
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicExistsException) || System.nanoTime() > giveUpAt) {
                            throw e;
                        }
                        Thread.sleep(200);
                    }
                }
            }
            f.sent.clear();
            // offsets start over, and reach past the checkpoint's on every partition: Spark alone would read on from
            // those and skip the rest
            f.produce(450);

            RuntimeException e = assertThrows(RuntimeException.class, () -> Main.run(f.config("ingest"), BatchFixture.VIEWS));
            assertTrue(e.getMessage().startsWith("Kafka topic batch_recreated is not the topic the ingest checkpoint"), e.getMessage());
            assertTrue(e.getMessage().contains("a new --master and --checkpoint"), e.getMessage());
            String checkpoint = dir.resolve("checkpoint-new").toString();
            RuntimeException newCheckpoint = assertThrows(RuntimeException.class,
                    () -> Main.run(f.config("ingest", "--checkpoint", checkpoint), BatchFixture.VIEWS));
            assertTrue(newCheckpoint.getMessage().startsWith("the ingest checkpoint " + checkpoint + " is new, but "),
                    newCheckpoint.getMessage());
            assertEquals(archived, masterOffsets(f, f.master), "nothing appended by the refused runs");

            Path master = dir.resolve("master-new");
            Main.run(f.config("ingest", "--master", master.toString(), "--checkpoint", checkpoint), BatchFixture.VIEWS);
            assertEquals(f.sent.stream().map(r -> r.partition() + "/" + r.offset()).sorted().toList(),
                    masterOffsets(f, master).stream().sorted().toList(), "the new topic's every record, in a dataset of its own");
        }
    }

    /**
     * A checkpoint kept apart from the master dataset (--checkpoint elsewhere), then pointed at a new
     * master or at one restored from an older copy: Spark would go on from the checkpoint's offsets,
     * and the records archived before them would be missing from that master without a word.
     */
    @Test
    void aCheckpointAheadOfItsMasterDatasetIsRefusedRatherThanLeavingTheEarlierRecordsOut(LocalCluster cluster, @TempDir Path dir)
            throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "checkpoint_ahead", dir, 12)) {
            String checkpoint = dir.resolve("checkpoint-apart").toString();
            f.produce(150);
            Main.run(f.config("ingest", "--checkpoint", checkpoint, "--ingest-batch-records", "40"), BatchFixture.VIEWS);
            Path copy = dir.resolve("master-copy");
            copyTree(f.master, copy); // a backup taken now
            Path checkpointCopy = dir.resolve("checkpoint-copy");
            copyTree(Path.of(checkpoint), checkpointCopy);
            f.produce(150);
            Main.run(f.config("ingest", "--checkpoint", checkpoint), BatchFixture.VIEWS);
            f.produce(150);
            long batches; // the newest batch the checkpoint committed: several for the first ingest's 40 records each
            try (var commits = Files.list(Path.of(checkpoint, "commits"))) {
                batches = commits.filter(p -> p.getFileName().toString().matches("\\d+")).count() - 1;
            }

            Path fresh = dir.resolve("master-fresh");
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> Main.run(f.config("ingest", "--checkpoint", checkpoint, "--master", fresh.toString()), BatchFixture.VIEWS));
            assertTrue(e.getMessage().startsWith("the ingest checkpoint " + checkpoint + " has archived up to batch " + batches + ", but "
                    + fresh + "/kafka holds no batch of it"), e.getMessage());
            RuntimeException restored = assertThrows(RuntimeException.class,
                    () -> Main.run(f.config("ingest", "--checkpoint", checkpoint, "--master", copy.toString()), BatchFixture.VIEWS));
            assertTrue(restored.getMessage().startsWith("the ingest checkpoint " + checkpoint + " has archived up to batch " + batches + ", but "
                    + copy + "/kafka holds batches up to " + (batches - 1) + " of it"), restored.getMessage());
            assertEquals(150, masterOffsets(f, copy).size(), "nothing appended by the refused run");
            RuntimeException older = assertThrows(RuntimeException.class,
                    () -> Main.run(f.config("ingest", "--checkpoint", checkpointCopy.toString()), BatchFixture.VIEWS));
            assertTrue(older.getMessage().startsWith("the ingest checkpoint " + checkpointCopy + " has archived up to batch "
                    + (batches - 1) + ", but " + f.master + "/kafka holds batches up to " + batches + ": a checkpoint restored"),
                    older.getMessage());

            Main.run(f.config("ingest", "--checkpoint", checkpoint), BatchFixture.VIEWS);
            assertEquals(f.sent.stream().map(r -> r.partition() + "/" + r.offset()).sorted().toList(),
                    masterOffsets(f).stream().sorted().toList(), "its own master goes on with every record");

            // a crash between the sink's commit of a batch and the checkpoint's: the log one planned batch ahead
            f.produce(90);
            Main.run(f.config("ingest", "--checkpoint", checkpoint), BatchFixture.VIEWS);
            Path commits = Path.of(checkpoint, "commits");
            Files.delete(commits.resolve(Long.toString(batches + 2)));
            Files.deleteIfExists(commits.resolve("." + (batches + 2) + ".crc"));
            Main.run(f.config("ingest", "--checkpoint", checkpoint), BatchFixture.VIEWS);
            List<String> offsets = masterOffsets(f);
            assertEquals(f.sent.stream().map(r -> r.partition() + "/" + r.offset()).sorted().toList(), offsets.stream().sorted().toList(),
                    "the batch taken again, not refused, and its records once");
            assertEquals(offsets.size(), offsets.stream().distinct().count());
        }
    }

    /**
     * The scheduled run with a mistake in the views file: Kafka's records are archived all the same
     * (retention does not wait for the fix), and the run fails naming the mistake.
     */
    @Test
    void aScheduledRunArchivesEvenWhenTheViewsFileIsBrokenAndThenFailsNamingIt(LocalCluster cluster, @TempDir Path dir)
            throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "broken_views", dir, 13)) {
            f.produce(120);
            Path views = dir.resolve("views.yml");
            Files.writeString(views, "views:\n  - name: sales\n    events: [purchase]\n    granularity: fortnight\n");
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int exit = Main.execute(f.args("run", "--views", views.toString()).toArray(String[]::new), Map.of(),
                    new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            String said = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, exit, said);
            assertTrue(said.contains("batch-layer: run: Kafka's records are archived, but no recompute ran: "), said);
            assertTrue(said.contains(views.toString()), "names the file: " + said);
            assertEquals(f.sent.stream().map(r -> r.partition() + "/" + r.offset()).sorted().toList(),
                    masterOffsets(f).stream().sorted().toList(), "every record archived");
            assertTrue(java.util.regex.Pattern.compile("\\[batch] ingest +" + f.sent.size() + "  records appended to ").matcher(said).find(),
                    "the progress line counts them: " + said);
            assertTrue(f.session.execute("SELECT * FROM " + f.keyspace() + ".view_state").all().isEmpty(), "nothing published");
        }
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    private static List<String> masterOffsets(BatchFixture f) {
        return masterOffsets(f, f.master);
    }

    private static List<String> masterOffsets(BatchFixture f, Path master) {
        SparkSession spark = SparkSessions.create(f.config("recompute"));
        try {
            return new MasterDataset(master.toString()).read(spark).select("kafka_partition", "kafka_offset").collectAsList().stream()
                    .map(r -> r.getInt(0) + "/" + r.getLong(1)).toList();
        } finally {
            spark.stop();
        }
    }

    /** The first offset of partition 0 the failed ingest found deleted, as its message says. */
    private static long firstLost(RuntimeException e) {
        Matcher m = Pattern.compile("partition 0 from offset (\\d+)").matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        return Long.parseLong(m.group(1));
    }

    @Test
    void generationsBeforeThePreviousOneAreDroppedOnceTheGraceIsOver(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "cleanup", dir, 7)) {
            List<Instant> cutoffs = f.produceRounds(3, 200);
            Main.run(f.config("ingest"), BatchFixture.VIEWS);
            List<Instant> publishedAt = new ArrayList<>();
            for (Instant cutoff : cutoffs) {
                Main.run(f.config("recompute", "--cutoff", cutoff.toString()), BatchFixture.VIEWS); // within the default 1 h grace
                publishedAt.add(f.published("sales").publishedAt());
            }
            ViewDefinition sales = BatchFixture.VIEWS.find("sales").orElseThrow();
            BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
            List<BatchGeneration> before = generations.list(sales.name(), sales.version()).toCompletableFuture().join()
                    .stream().sorted(Comparator.comparing(BatchGeneration::cutoff)).toList();
            assertEquals(cutoffs, before.stream().map(BatchGeneration::cutoff).toList(), "nothing dropped within the grace");
            assertEquals(Arrays.asList(publishedAt.get(1), publishedAt.get(2), null),
                    before.stream().map(BatchGeneration::replacedAt).toList(), "each marked replaced by the next one's publish");
            BatchGeneration oldest = before.get(0);
            assertTrue(rowsOf(f, sales, oldest) > 0);

            Main.run(f.config("recompute", "--cutoff", cutoffs.get(2).toString(), "--grace", "0s"), BatchFixture.VIEWS);

            assertEquals(List.of(before.get(1).generation(), before.get(2).generation()), generations.list(sales.name(), sales.version())
                    .toCompletableFuture().join().stream().sorted(Comparator.comparing(BatchGeneration::cutoff))
                    .map(BatchGeneration::generation).toList(), "the published one and its previous stay");
            assertEquals(0, rowsOf(f, sales, oldest), "the oldest generation's rows are gone");
            ViewState published = f.published("sales");
            assertEquals(before.get(2).generation(), published.generation(), "the same cutoff over the same events: the same generation");
            assertEquals(before.get(1).generation(), published.previousGeneration(), "re-publishing a generation keeps its previous");
            List<String> diffs = f.differences(published.generation(), published.cutoff());
            assertTrue(diffs.isEmpty(), "the published generation is intact: " + diffs.subList(0, Math.min(5, diffs.size())));
        }
    }

    /**
     * A changed view's old version answers for the grace, then is retired (its state marked, its
     * generations dropped), so readers still on the old views file learn it is gone; going back to
     * the old file publishes the old version again, exact.
     */
    @Test
    void aChangedViewsOldVersionStaysForTheGraceThenIsRetiredUntilRolledBack(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "versions", dir, 9)) {
            String cutoff = f.publishedOnce(200);
            ViewDefinition before = BatchFixture.VIEWS.find("sales").orElseThrow();
            ViewDefinition pageviewsBefore = BatchFixture.VIEWS.find("pageviews").orElseThrow();
            ViewCatalog changed = BatchFixture.viewsWith("dimensions: [product, country]", "dimensions: [product, country, currency]",
                    "dimensions: [page, country]", "dimensions: [page, country, device]");
            ViewDefinition after = changed.find("sales").orElseThrow();
            assertFalse(before.version().equals(after.version()));
            assertFalse(pageviewsBefore.version().equals(changed.find("pageviews").orElseThrow().version()));
            BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
            List<BatchGeneration> old = generations.list(before.name(), before.version()).toCompletableFuture().join();
            List<BatchGeneration> oldPageviews = generations.list(pageviewsBefore.name(), pageviewsBefore.version()).toCompletableFuture()
                    .join();

            Main.run(f.config("recompute", "--cutoff", cutoff), changed); // the new version is published, within the grace
            ViewStateTable states = new ViewStateTable(f.session, f.keyspace());
            assertTrue(states.find("sales", after.version()).toCompletableFuture().join().isPresent());
            assertTrue(states.find("sales", before.version()).toCompletableFuture().join().isPresent(),
                    "servers still on the old views file keep answering");
            assertTrue(rowsOf(f, before, old.get(0)) > 0);
            ViewState firstPublished = states.find("sales", after.version()).toCompletableFuture().join().orElseThrow();
            assertEquals(firstPublished.publishedAt(), firstPublished.versionSince());

            // a cleanup that died between retiring the old pageviews' state and dropping its generations
            ViewState oldPageviewsState = states.find("pageviews", pageviewsBefore.version()).toCompletableFuture().join().orElseThrow();
            assertTrue(states.retire(oldPageviewsState, changed.find("pageviews").orElseThrow().version(), Instant.now(),
                    DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
            assertTrue(rowsOf(f, pageviewsBefore, oldPageviews.get(0)) > 0);

            Main.run(f.config("recompute", "--cutoff", cutoff, "--grace", "0s"), changed);
            assertEquals(firstPublished.versionSince(), states.find("sales", after.version()).toCompletableFuture().join().orElseThrow()
                    .versionSince(), "the grace counts from the first publish");
            ViewState retired = states.find("sales", before.version()).toCompletableFuture().join().orElseThrow();
            assertTrue(retired.retired(), "the old version is retired: " + retired);
            assertEquals(after.version(), retired.replacedBy());
            assertEquals(List.of(), generations.list(before.name(), before.version()).toCompletableFuture().join());
            assertEquals(0, rowsOf(f, before, old.get(0)), "with its rows");
            assertEquals(List.of(), generations.list(pageviewsBefore.name(), pageviewsBefore.version()).toCompletableFuture().join(),
                    "generations of a version without a state are found too");
            assertEquals(0, rowsOf(f, pageviewsBefore, oldPageviews.get(0)), "with their rows");
            assertTrue(states.find("activity", BatchFixture.VIEWS.find("activity").orElseThrow().version()).toCompletableFuture().join()
                    .isPresent(), "an unchanged view keeps its version");

            // the change rolled back: the old file's run publishes its versions again, from rows written after the drop
            Main.run(f.config("recompute", "--cutoff", cutoff), BatchFixture.VIEWS);
            ViewState rolledBack = f.published("sales");
            assertFalse(rolledBack.retired(), "current again: " + rolledBack);
            assertFalse(rolledBack.generation() == retired.generation(), "an id of its own: readers may have cached the retired"
                    + " generation's rows partly, while they were dropped");
            assertEquals(null, rolledBack.previousGeneration(), "the retired generation's rows are gone: nothing to fall back on");
            assertTrue(rolledBack.versionSince().isAfter(retired.retiredAt()), "counted from the roll-back");
            assertFalse(f.published("pageviews").retired());
            List<String> diffs = f.publishedDifferences(rolledBack.cutoff());
            assertTrue(diffs.isEmpty(), "exact after the roll-back: " + diffs.subList(0, Math.min(5, diffs.size())));
        }
    }

    /**
     * A serving instance on the old views file that read the old version's state just before a
     * cleanup retired it answers from its generations until it reads the state again: they stay for
     * the grace after the retirement, not only after the new version's first publish.
     */
    @Test
    void aRetiredVersionsGenerationsStayForTheGraceAfterItsRetirement(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "retired_grace", dir, 16)) {
            String cutoff = f.publishedOnce(200);
            ViewDefinition before = BatchFixture.VIEWS.find("sales").orElseThrow();
            ViewCatalog changed = BatchFixture.viewsWith("dimensions: [product, country]", "dimensions: [product, country, currency]");
            ViewDefinition after = changed.find("sales").orElseThrow();
            BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
            BatchGeneration old = generations.list(before.name(), before.version()).toCompletableFuture().join().get(0);
            Main.run(f.config("recompute", "--cutoff", cutoff), changed);
            ViewStateTable states = new ViewStateTable(f.session, f.keyspace());
            ViewState current = states.find("sales", after.version()).toCompletableFuture().join().orElseThrow();
            GenerationCleanup cleanup = new GenerationCleanup(generations, new BatchRowsTable(f.session, f.keyspace()), states,
                    Duration.ofHours(1));

            Instant retiredAt = current.versionSince().plus(Duration.ofMinutes(61)); // the new version published for the grace
            cleanup.clean(after, current, QUORUM, retiredAt);
            assertEquals(retiredAt, states.find("sales", before.version()).toCompletableFuture().join().orElseThrow().retiredAt());
            cleanup.clean(after, current, QUORUM, retiredAt.plus(Duration.ofMinutes(59)));
            assertEquals(List.of(old.generation()), generations.list(before.name(), before.version()).toCompletableFuture().join().stream()
                    .map(BatchGeneration::generation).toList(), "retired, not yet for the grace");
            assertTrue(rowsOf(f, before, old) > 0, "its rows answer an instance that read the state before the retirement");

            cleanup.clean(after, current, QUORUM, retiredAt.plus(Duration.ofMinutes(61)));
            assertEquals(List.of(), generations.list(before.name(), before.version()).toCompletableFuture().join());
            assertEquals(0, rowsOf(f, before, old), "with its rows");
        }
    }

    private static long rowsOf(BatchFixture f, ViewDefinition view, BatchGeneration g) {
        BatchRowsTable rows = new BatchRowsTable(f.session, f.keyspace());
        return g.partitions().stream().mapToLong(p -> rows.read(view, g.generation(), BatchGeneration.levelOf(p), BatchGeneration.periodOf(p))
                .toCompletableFuture().join().size()).sum();
    }

    @Test
    void anIngestKilledMidRunAndRunAgainNeitherLosesNorDuplicates(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "killed_ingest", dir, 2)) {
            f.produce(30_000);
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g"));
            // the same module flags Spark needs here (Surefire/Failsafe argLine)
            command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect")).toList());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
            command.addAll(f.args("ingest", "--ingest-batch-records", "2000"));
            File log = new File("target/batch-killed-ingest.log");
            Process ingest = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
            Path commits = f.master.resolve("kafka").resolve("_spark_metadata");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (count(commits) < 2 && ingest.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            ingest.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL mid-run
            long committedBeforeKill = count(commits);
            assertTrue(committedBeforeKill >= 1 && committedBeforeKill < 15,
                    "killed after " + committedBeforeKill + " of 15 micro-batches (see " + log + ")");

            Main.run(f.config("ingest", "--ingest-batch-records", "2000"), BatchFixture.VIEWS);

            SparkSession spark = SparkSessions.create(f.config("recompute"));
            List<Row> rows = new MasterDataset(f.master.toString()).read(spark).select("kafka_partition", "kafka_offset").collectAsList();
            spark.stop();
            assertEquals(f.sent.size(), rows.size(), "every record once");
            assertEquals(f.sent.size(), rows.stream().map(r -> r.getInt(0) + "/" + r.getLong(1)).distinct().count(), "no record twice");
        }
    }

    @Test
    void aRecomputeThatDiesBeforePublishingLeavesThePreviousGenerationServing(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "no_publish", dir, 3)) {
            f.produce(1_500);
            Thread.sleep(1_100);
            Main.run(f.config("run"), BatchFixture.VIEWS);
            ViewState before = f.published("pageviews");

            f.produce(1_500);
            Thread.sleep(1_100);
            Main.run(f.config("ingest"), BatchFixture.VIEWS);
            BatchConfig config = f.config("recompute");
            SparkSession spark = SparkSessions.create(config);
            try {
                List<ConsistencyLevel> levels = new ArrayList<>();
                Recompute crashing = new Recompute(spark, config, BatchFixture.VIEWS, f.session, (state, replacing, consistency) -> {
                    levels.add(consistency);
                    throw new IllegalStateException("process died before publishing");
                }, new Progress(System.err));
                assertThrows(IllegalStateException.class, () -> crashing.run(Optional.empty()));
                assertEquals(List.of(DefaultConsistencyLevel.LOCAL_QUORUM), levels, "auto, on a keyspace in one datacenter");
            } finally {
                spark.stop();
            }

            assertEquals(before, f.published("pageviews"), "view_state still points at the previous generation");
            List<String> diffs = f.differences(before.generation(), before.cutoff());
            assertTrue(diffs.isEmpty(), "the previous generation's rows are intact: " + diffs.subList(0, Math.min(8, diffs.size())));

            // the generation that never got published is recorded, so a later run drops it once the grace is over
            ViewDefinition pageviews = BatchFixture.VIEWS.find("pageviews").orElseThrow();
            BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
            BatchGeneration unpublished = generations.list(pageviews.name(), pageviews.version()).toCompletableFuture().join().stream()
                    .filter(g -> g.generation() != before.generation()).findFirst().orElseThrow();
            assertTrue(rowsOf(f, pageviews, unpublished) > 0);
            f.produce(100);
            Thread.sleep(1_100);
            Main.run(f.config("run", "--grace", "0s"), BatchFixture.VIEWS);
            assertEquals(0, rowsOf(f, pageviews, unpublished), "the unpublished generation's rows are gone");
            assertEquals(before.generation(), f.published("pageviews").previousGeneration());
        }
    }

    /**
     * Two recomputes overlapping, the second run entirely after the first read the views' states and
     * before it writes: a first run whose views were published since it started goes on only if that
     * is its own generation (the same cutoff over the same events), and otherwise fails, naming the
     * other run's generation, which stays published with its rows intact, and leaves its own to a
     * later run's cleanup.
     */
    @Test
    void aRecomputeDoesNotPublishOverAGenerationAnotherRunPublishedWhileItRan(LocalCluster cluster, @TempDir Path dir)
            throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "overlap", dir, 5)) {
            List<Instant> cutoffs = f.produceRounds(3, 300);
            Main.run(f.config("ingest"), BatchFixture.VIEWS);
            SparkSession spark = SparkSessions.create(f.config("recompute"));
            try {
                // from no state, both of the same cutoff: the second to publish finds its own generation
                String first = cutoffs.get(0).toString();
                overlapped(spark, f, f.config("recompute", "--cutoff", first), f.config("recompute", "--cutoff", first), new ArrayList<>());
                ViewState twin = f.published("pageviews");
                assertEquals(cutoffs.get(0), twin.cutoff());
                for (String view : List.of("pageviews", "sales", "activity")) {
                    assertEquals(twin.generation(), f.published(view).generation(), view);
                }
                List<String> twinDiffs = f.differences(twin.generation(), twin.cutoff());
                assertTrue(twinDiffs.isEmpty(), "exact: " + twinDiffs.subList(0, Math.min(8, twinDiffs.size())));

                // an earlier cutoff, overlapped by a run of a later one: the earlier one must not replace it
                Instant between = cutoffs.get(1);
                List<BatchGeneration> refusedWritten = new ArrayList<>();
                IllegalStateException refused = assertThrows(IllegalStateException.class, () -> overlapped(spark, f,
                        f.config("recompute", "--cutoff", between.toString()), f.config("recompute"), refusedWritten));
                ViewState later = f.published("pageviews");
                assertTrue(later.cutoff().isAfter(between), later.cutoff() + " after " + between);
                assertTrue(refused.getMessage().contains("generation " + later.generation() + " (cutoff " + later.cutoff()),
                        refused.getMessage());
                assertTrue(refused.getMessage().contains("since this run started, when it read generation " + twin.generation() + "."),
                        refused.getMessage());
                for (String view : List.of("pageviews", "sales", "activity")) {
                    assertEquals(later.generation(), f.published(view).generation(), view);
                    assertEquals(twin.generation(), f.published(view).previousGeneration(), view);
                }
                List<String> diffs = f.differences(later.generation(), later.cutoff());
                assertTrue(diffs.isEmpty(), "the other run's generation is intact: " + diffs.subList(0, Math.min(8, diffs.size())));
                ViewDefinition pageviews = BatchFixture.VIEWS.find("pageviews").orElseThrow();
                BatchGeneration refusedGeneration = refusedWritten.get(0);
                assertEquals(between, refusedGeneration.cutoff());
                BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
                assertTrue(generations.list(pageviews.name(), pageviews.version()).toCompletableFuture().join().stream()
                        .anyMatch(g -> g.generation() == refusedGeneration.generation()),
                        "the refused generation stays recorded, for a later run's cleanup after the grace");
                assertTrue(rowsOf(f, pageviews, refusedGeneration) > 0, "nothing dropped within the grace");

                new Recompute(spark, f.config("recompute", "--grace", "0s"), BatchFixture.VIEWS, f.session,
                        (s, r, c) -> new ViewStateTable(f.session, f.keyspace()).publish(s, r, c).toCompletableFuture().join(),
                        new Progress(System.err)).run(Optional.empty());
                assertEquals(Set.of(twin.generation(), later.generation()), generations.list(pageviews.name(), pageviews.version())
                        .toCompletableFuture().join().stream().map(BatchGeneration::generation).collect(Collectors.toSet()),
                        "a later run's cleanup drops it");
                assertEquals(0, rowsOf(f, pageviews, refusedGeneration), "with its rows");

                // a run whose derived cutoff is before the published one (a larger margin) leaves every view as it is
                ViewState published = f.published("pageviews");
                Instant derived = new Recompute(spark, f.config("recompute", "--safety-margin", "1h"), BatchFixture.VIEWS, f.session,
                        (s, r, c) -> {
                            throw new AssertionError("published " + s);
                        }, new Progress(System.err)).run(Optional.empty());
                assertTrue(derived.isBefore(published.cutoff()), derived + " before " + published.cutoff());
                assertEquals(published, f.published("pageviews"));
                assertTrue(generations.list(pageviews.name(), pageviews.version()).toCompletableFuture().join().stream()
                        .noneMatch(g -> g.cutoff().equals(derived)), "nothing written for it");
            } finally {
                spark.stop();
            }
        }
    }

    /**
     * A run of the old views file that read a view's state before a run of the new file retired it:
     * its generation may have lost rows to that run's cleanup, so it is refused the publish and the
     * version stays retired; what it wrote goes with a later cleanup.
     */
    @Test
    void aRunThatReadAViewVersionBeforeAnotherRunRetiredItDoesNotPublishIt(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "retired_meanwhile", dir, 15)) {
            String cutoff = f.publishedOnce(100);
            ViewCatalog changed = BatchFixture.viewsWith("dimensions: [page, country]", "dimensions: [page, country, device]");
            ViewDefinition oldPageviews = BatchFixture.VIEWS.find("pageviews").orElseThrow();
            ViewDefinition newPageviews = changed.find("pageviews").orElseThrow();
            Main.run(f.config("recompute", "--cutoff", cutoff), changed); // the new version published beside the old one
            ViewState read = f.published("pageviews");
            SparkSession spark = SparkSessions.create(f.config("recompute"));
            try {
                List<BatchGeneration> written = new ArrayList<>();
                IllegalStateException refused = assertThrows(IllegalStateException.class, () -> overlapped(spark, f,
                        f.config("recompute", "--cutoff", cutoff), BatchFixture.VIEWS, f.config("recompute", "--cutoff", cutoff,
                                "--grace", "0s"), changed, written));
                ViewState retired = new ViewStateTable(f.session, f.keyspace()).find("pageviews", oldPageviews.version())
                        .toCompletableFuture().join().orElseThrow();
                assertTrue(retired.retired(), "retired meanwhile, and not published over: " + retired);
                assertEquals(read.generation(), retired.generation());
                assertTrue(refused.getMessage().startsWith("view pageviews (version " + oldPageviews.version() + ") was retired at "
                        + retired.retiredAt() + " by a run whose views file has version " + newPageviews.version() + " of it since this"
                        + " run started, when it read generation " + read.generation() + "."), refused.getMessage());
                assertEquals(read.generation(), written.get(0).generation(), "the same cutoff over the same events");

                new Recompute(spark, f.config("recompute", "--cutoff", cutoff, "--grace", "0s"), changed, f.session,
                        (s, r, c) -> new ViewStateTable(f.session, f.keyspace()).publish(s, r, c).toCompletableFuture().join(),
                        new Progress(System.err)).run(Optional.empty());
                BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
                assertEquals(List.of(), generations.list(oldPageviews.name(), oldPageviews.version()).toCompletableFuture().join(),
                        "what the refused run wrote goes with a later cleanup");
                assertEquals(0, rowsOf(f, oldPageviews, written.get(0)));
            } finally {
                spark.stop();
            }
        }
    }

    /**
     * A run of a new views file whose write of a view outlasts {@code --grace}, beside a run of the
     * old file: the old run's cleanup finds the new version without a state, but the new run renews
     * its generation's record while it writes, so nothing of it is dropped and it is published whole.
     */
    @Test
    void aViewWhoseWriteOutlastsTheGraceKeepsItsRowsFromAnotherRunsCleanup(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "lease", dir, 11)) {
            String cutoff = f.publishedOnce(300);
            ViewCatalog changed = BatchFixture.viewsWith("dimensions: [page, country]", "dimensions: [page, country, device]");
            ViewDefinition newPageviews = changed.find("pageviews").orElseThrow();
            assertFalse(newPageviews.version().equals(BatchFixture.VIEWS.find("pageviews").orElseThrow().version()));
            ViewStateTable states = new ViewStateTable(f.session, f.keyspace());
            BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
            Publisher publisher = (s, r, c) -> states.publish(s, r, c).toCompletableFuture().join();
            long[] rowsWritten = {-1};
            SparkSession spark = SparkSessions.create(f.config("recompute"));
            try {
                PrintStream progress = new PrintStream(System.err, true, StandardCharsets.UTF_8) {
                    @Override
                    public PrintStream format(Locale l, String format, Object... args) {
                        if (rowsWritten[0] < 0 && args.length > 2 && "write".equals(args[0])
                                && String.valueOf(args[2]).contains(" of pageviews ")) {
                            BatchGeneration g = generations.list(newPageviews.name(), newPageviews.version()).toCompletableFuture().join()
                                    .get(0);
                            rowsWritten[0] = rowsOf(f, newPageviews, g);
                            sleep(31_000); // without renewals, the record made before the write would now be older than the grace
                            new Recompute(spark, f.config("recompute", "--cutoff", cutoff, "--grace", "30s"), BatchFixture.VIEWS, f.session,
                                    publisher, new Progress(System.err)).run(Optional.empty());
                        }
                        return super.format(l, format, args);
                    }
                };
                new Recompute(spark, f.config("recompute", "--cutoff", cutoff, "--grace", "30s"), changed, f.session, publisher,
                        new Progress(progress)).run(Optional.empty());
            } finally {
                spark.stop();
            }
            assertTrue(rowsWritten[0] > 0, "the other run ran while the new version was written");
            ViewState published = states.find("pageviews", newPageviews.version()).toCompletableFuture().join().orElseThrow();
            Optional<BatchGeneration> recorded = generations.list(newPageviews.name(), newPageviews.version()).toCompletableFuture().join()
                    .stream().filter(g -> g.generation() == published.generation()).findFirst();
            assertTrue(recorded.isPresent(), "the published generation was not dropped by the other run's cleanup");
            assertEquals(rowsWritten[0], rowsOf(f, newPageviews, recorded.get()), "with all its rows");
            assertEquals(rowsWritten[0], published.rowsWritten());
        }
    }

    /**
     * A cleanup that takes a generation for abandoned (its record older than the grace) while a run
     * writes a generation of the same id again (the same cutoff over the same events): what was
     * written within the last renewal interval stays; a cleanup that still finds the record stale an
     * interval later drops it.
     */
    @Test
    void aCleanupLeavesWhatARunWritesMeanwhileIntoAGenerationOfTheSameId(LocalCluster cluster, @TempDir Path dir) {
        try (BatchFixture f = new BatchFixture(cluster, "asof", dir, 13)) {
            SalesGenerations sales = new SalesGenerations(f);
            long id = 99;
            // the record as the cleanup lists it (its last renewal two hours ago), then the other run's rows
            sales.recordWithARow(id, Instant.now().minus(Duration.ofHours(2)));
            Instant now = Instant.now();
            ViewState published = sales.published(7, null, now);
            GenerationCleanup cleanup = sales.cleanup(Duration.ofMinutes(10)); // renewed every minute

            cleanup.clean(sales.view, published, QUORUM, now);
            assertEquals(1, sales.rowsOf(id), "the row written within the interval stays");
            assertEquals(List.of(id), sales.listed(), "and so does the record");

            cleanup.clean(sales.view, published, QUORUM, now.plus(Duration.ofMinutes(2)));
            assertEquals(0, sales.rowsOf(id));
            assertEquals(List.of(), sales.listed());
        }
    }

    /**
     * A generation replaced moments ago stays for the grace, however long ago it was written: readers
     * may have read the state that pointed at it until then. One replaced longer ago goes, however
     * recently the published one's previous was published (runs more frequent than the grace).
     */
    @Test
    void aGenerationReplacedMomentsAgoStaysForTheGraceHoweverLongAgoItWasWritten(LocalCluster cluster, @TempDir Path dir) {
        try (BatchFixture f = new BatchFixture(cluster, "replaced", dir, 14)) {
            SalesGenerations sales = new SalesGenerations(f);
            Instant now = Instant.now();
            for (long id = 4; id <= 7; id++) { // 4 to 6 written three hours ago, 7 now
                sales.recordWithARow(id, id == 7 ? now : now.minus(Duration.ofHours(3)));
            }
            // 5 replaced 4 two hours ago, 6 replaced 5 30 s ago, 7 replaces 6 now
            sales.markReplaced(4, now.minus(Duration.ofHours(2)));
            sales.markReplaced(5, now.minus(Duration.ofSeconds(30)));
            sales.markReplaced(6, now);
            ViewState published = sales.published(7, 6L, now);
            GenerationCleanup cleanup = sales.cleanup(Duration.ofMinutes(10));

            // (two minutes on: a cleanup leaves what was written within its last minute)
            assertEquals(1, cleanup.clean(sales.view, published, QUORUM, now.plus(Duration.ofMinutes(2))));
            assertEquals(0, sales.rowsOf(4), "replaced two hours ago: gone");
            assertEquals(1, sales.rowsOf(5), "the generation readers used until 30 s ago keeps its rows");

            assertEquals(1, cleanup.clean(sales.view, published, QUORUM, now.plus(Duration.ofMinutes(10))));
            assertEquals(0, sales.rowsOf(5));
            assertEquals(List.of(6L, 7L), sales.listed());
        }
    }

    /**
     * A run that read a generation's record marks it replaced after a cleanup took its as-of time and
     * before it forgets the record: the mark goes too, rather than stay as a row of its own.
     */
    @Test
    void aReplacementMarkRacingACleanupGoesWithTheRecordItMarks(LocalCluster cluster, @TempDir Path dir) throws InterruptedException {
        try (BatchFixture f = new BatchFixture(cluster, "mark_race", dir, 15)) {
            SalesGenerations sales = new SalesGenerations(f);
            sales.recordWithARow(3, Instant.now().minus(Duration.ofHours(3)));
            Thread.sleep(5); // the clock moves on: the record was written before the as-of time, the mark after it
            Instant asOf = Instant.now();
            Thread.sleep(5);
            sales.markReplaced(3, Instant.now());
            sales.generations.forget(sales.view.name(), sales.view.version(), 3, asOf, QUORUM).toCompletableFuture().join();

            assertEquals(List.of(), sales.listed());
            assertEquals(List.of(), f.session.execute("SELECT generation, replaced_at FROM " + f.keyspace() + ".batch_generations"
                    + " WHERE view_name = ? AND version = ?", sales.view.name(), sales.view.version()).all(), "no mark of nothing left");
        }
    }

    private static final ConsistencyLevel QUORUM = DefaultConsistencyLevel.LOCAL_QUORUM;

    /** The sales view's generations of a scenario, each recorded with one row in the minute of one cutoff. */
    private static final class SalesGenerations {
        private static final Instant CUTOFF = Instant.parse("2026-11-24T03:00:00Z");
        private static final Instant PERIOD = Granularity.MINUTE.periodOf(CUTOFF);
        private final BatchFixture f;
        private final ViewDefinition view = BatchFixture.VIEWS.find("sales").orElseThrow();
        private final BatchRowsTable rows;
        private final BatchGenerationsTable generations;

        SalesGenerations(BatchFixture f) {
            this.f = f;
            this.rows = new BatchRowsTable(f.session, f.keyspace());
            this.generations = new BatchGenerationsTable(f.session, f.keyspace());
        }

        void recordWithARow(long id, Instant writtenAt) {
            generations.record(new BatchGeneration(view.name(), view.version(), id, CUTOFF,
                    Set.of(BatchGeneration.partition(Granularity.MINUTE, PERIOD)), writtenAt), QUORUM).toCompletableFuture().join();
            rows.write(view, new BatchRow(id, Granularity.MINUTE, CUTOFF, List.of("p1", "NP"), Aggregate.zero(view)))
                    .toCompletableFuture().join();
        }

        void markReplaced(long id, Instant at) {
            generations.markReplaced(view.name(), view.version(), id, at, QUORUM).toCompletableFuture().join();
        }

        ViewState published(long generation, Long previous, Instant at) {
            return new ViewState(view.name(), view.version(), generation, CUTOFF, at, at, 0, 0, 0, 0, previous, at);
        }

        GenerationCleanup cleanup(Duration grace) {
            return new GenerationCleanup(generations, rows, new ViewStateTable(f.session, f.keyspace()), grace);
        }

        int rowsOf(long id) {
            return rows.read(view, id, Granularity.MINUTE, PERIOD).toCompletableFuture().join().size();
        }

        List<Long> listed() {
            return generations.list(view.name(), view.version()).toCompletableFuture().join().stream()
                    .map(BatchGeneration::generation).sorted().toList();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs a recompute of {@code outer} that runs a whole recompute of {@code inner} right after it
     * read the views' states, as it tells its generation.
     *
     * @param written receives the generation outer recorded for the view it published first
     */
    private static void overlapped(SparkSession spark, BatchFixture f, BatchConfig outer, BatchConfig inner, List<BatchGeneration> written) {
        overlapped(spark, f, outer, BatchFixture.VIEWS, inner, BatchFixture.VIEWS, written);
    }

    /** The same, each run with its own views file. */
    private static void overlapped(SparkSession spark, BatchFixture f, BatchConfig outer, ViewCatalog outerViews, BatchConfig inner,
                                   ViewCatalog innerViews, List<BatchGeneration> written) {
        ViewStateTable states = new ViewStateTable(f.session, f.keyspace());
        BatchGenerationsTable generations = new BatchGenerationsTable(f.session, f.keyspace());
        Publisher publisher = (s, r, c) -> states.publish(s, r, c).toCompletableFuture().join();
        boolean[] innerRan = {false};
        PrintStream progress = new PrintStream(System.err, true, StandardCharsets.UTF_8) {
            @Override
            public PrintStream format(Locale l, String format, Object... args) {
                if (!innerRan[0] && args.length > 0 && "generation".equals(args[0])) {
                    innerRan[0] = true;
                    new Recompute(spark, inner, innerViews, f.session, publisher, new Progress(System.err)).run(Optional.empty());
                }
                return super.format(l, format, args);
            }
        };
        new Recompute(spark, outer, outerViews, f.session, (state, replacing, consistency) -> {
            if (written.isEmpty()) {
                written.add(generations.list(state.view(), state.version()).toCompletableFuture().join().stream()
                        .filter(g -> g.generation() == state.generation()).findFirst().orElseThrow());
                assertTrue(rowsOf(f, outerViews.find(state.view()).orElseThrow(), written.get(0)) > 0, "written before publishing");
            }
            return publisher.publish(state, replacing, consistency);
        }, new Progress(progress)).run(Optional.empty());
        assertTrue(innerRan[0]);
    }

    /**
     * A speed layer that counted events before any ingest, then slotting by the hour while the batch
     * slots by the second: the batch refuses every cutoff that would leave events out of both layers,
     * until the hour-wide rows are gone.
     */
    @Test
    void aRecomputeRefusesACutoffTheSpeedRowsCannotTakeOverFrom(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "slot_widths", dir, 9)) {
            f.produce(100);
            Thread.sleep(1_100);
            SpeedPartitionsTable speed = new SpeedPartitionsTable(f.session, f.keyspace());
            long writeTime = System.currentTimeMillis() * 1_000;
            speed.write(status(Duration.ofHours(1), Duration.ofDays(1)), writeTime).toCompletableFuture().join();
            Instant second = Instant.now().truncatedTo(ChronoUnit.SECONDS); // a 1 s boundary before the ingest starts, not on an hour
            String inside = (second.getEpochSecond() % 3600 == 0 ? second.minusSeconds(1) : second).toString();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Main.run(f.config("recompute", "--cutoff", inside), BatchFixture.VIEWS));
            assertTrue(e.getMessage().contains("no ingest has run on this master dataset, but speed-layer application hourly-speed has"
                    + " counted events of its partitions [0]"), e.getMessage());

            Main.run(f.config("ingest"), BatchFixture.VIEWS);
            e = assertThrows(IllegalStateException.class, () -> Main.run(f.config("recompute", "--cutoff", inside), BatchFixture.VIEWS));
            assertTrue(e.getMessage().contains("not a slot boundary of speed-layer application hourly-speed, whose rows have slots PT1H"
                    + " wide (partitions [0])"), e.getMessage());
            speed.write(status(Duration.ofSeconds(1), Duration.ofDays(1)), writeTime + 1).toCompletableFuture().join(); // restarted
            e = assertThrows(IllegalStateException.class, () -> Main.run(f.config("recompute", "--cutoff", inside), BatchFixture.VIEWS));
            assertTrue(e.getMessage().contains("whose rows have slots PT1H wide"),
                    "its hour's rows hold events after it: " + e.getMessage());
            ViewDefinition sales = BatchFixture.VIEWS.find("sales").orElseThrow();
            assertEquals(Optional.empty(), new ViewStateTable(f.session, f.keyspace()).find(sales.name(), sales.version())
                    .toCompletableFuture().join(), "nothing published");

            // the hour-wide rows expire: played by a TTL of 1 s on the width's record, as if written a TTL ago
            speed.write(status(Duration.ofHours(1), Duration.ofSeconds(1)), writeTime + 2).toCompletableFuture().join();
            speed.write(status(Duration.ofSeconds(1), Duration.ofDays(1)), writeTime + 3).toCompletableFuture().join();
            Thread.sleep(2_100);
            Main.run(f.config("recompute"), BatchFixture.VIEWS);
            assertTrue(f.differences(f.published("sales").generation(), f.published("sales").cutoff()).isEmpty());
        }
    }

    private static SpeedPartitionStatus status(Duration slotWidth, Duration rowsTtl) {
        Instant now = Instant.now();
        return new SpeedPartitionStatus("hourly-speed", 0, 10, now, 0, Map.of(), now, Map.of(slotWidth, now), Set.of(rowsTtl), Map.of());
    }

    /**
     * What a parser fix parsing the history again does under an unchanged cutoff, played by an event
     * archived before T after the generation of T was published: the re-run writes a generation of
     * its own beside the published one, which readers and their caches take as never changing.
     */
    @Test
    void aRecomputeOfTheSameCutoffOverChangedEventsLeavesThePublishedGenerationAsItWas(LocalCluster cluster, @TempDir Path dir)
            throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "same_cutoff", dir, 8)) {
            f.produce(800);
            Thread.sleep(1_100);
            Main.run(f.config("run"), BatchFixture.VIEWS);
            ViewState first = f.published("sales");
            List<MasterRows.Event> firstEvents = List.copyOf(f.sent);

            Instant ingest = first.cutoff().minusMillis(400);
            MasterRows.Event late = new MasterRows.Event("archived-late", "purchase", ingest.minusSeconds(2),
                    Map.of("product", "sku-late", "country", "NP", "amount", "4.25", "user_id", "late-user"), ingest, -1, 0, true);
            SparkSession spark = SparkSessions.create(f.config("recompute"));
            Dataset<Row> value = spark.createDataFrame(List.of(RowFactory.create((Object) BatchFixture.json(late).getBytes(StandardCharsets.UTF_8))),
                    new StructType().add("value", DataTypes.BinaryType));
            // archived by a release before parser versions, so every recompute parses it again, as after a parser fix
            FileImport.toMasterRows(value, java.sql.Timestamp.from(ingest), java.time.Duration.ofMinutes(5)).drop("parser_version")
                    .write().partitionBy("ingest_date").parquet(new MasterDataset(f.master.toString()).importPath("20260101T000000000Z"));
            spark.stop();
            f.sent.add(late);

            String sameCutoff = first.cutoff().toString();
            Main.run(f.config("recompute", "--cutoff", sameCutoff), BatchFixture.VIEWS);
            ViewState second = f.published("sales");
            assertEquals(first.cutoff(), second.cutoff());
            assertTrue(second.generation() != first.generation(), "other events under the same cutoff: another generation");
            assertEquals(first.generation(), second.previousGeneration());
            List<String> diffs = f.differences(second.generation(), second.cutoff());
            assertTrue(diffs.isEmpty(), "the new generation counts the late event: " + diffs.subList(0, Math.min(8, diffs.size())));
            List<String> unchanged = f.differences(firstEvents, first.generation(), first.cutoff());
            assertTrue(unchanged.isEmpty(), "the first generation's rows are as published: " + unchanged.subList(0, Math.min(8, unchanged.size())));

            Main.run(f.config("recompute", "--cutoff", sameCutoff), BatchFixture.VIEWS);
            assertEquals(second.generation(), f.published("sales").generation(), "the same cutoff over the same events: the same generation");
        }
    }

    @Test
    void importedHistoryCountsAfterTheNextCutoffWithTodaysValidation(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "imported", dir, 4)) {
            Path json = dir.resolve("history.jsonl");
            Files.writeString(json, String.join("\n",
                    "{\"id\":\"h1\",\"type\":\"purchase\",\"ts\":\"2025-01-05T10:00:30Z\",\"attrs\":{\"product\":\"p1\",\"country\":\"NP\",\"amount\":\"10.00\",\"user_id\":\"a\"}}",
                    "{\"id\":\"h2\",\"type\":\"purchase\",\"ts\":\"2025-01-05T10:00:40Z\",\"attrs\":{\"product\":\"p1\",\"country\":\"NP\",\"amount\":\"2.50\",\"user_id\":\"b\"}}",
                    "{\"id\":\"h2\",\"type\":\"purchase\",\"ts\":\"2025-01-05T10:00:40Z\",\"attrs\":{\"product\":\"p1\",\"country\":\"NP\",\"amount\":\"2.50\",\"user_id\":\"b\"}}",
                    "{\"id\":\"h3\",\"type\":\"purchase\"",
                    "{\"id\":\"h4\",\"type\":\"purchase\",\"ts\":\"2999-01-01T00:00:00Z\",\"attrs\":{}}"));
            Main.run(f.config("import", "--input", json.toString(), "--format", "json"), BatchFixture.VIEWS);

            SparkSession spark = SparkSessions.create(f.config("recompute"));
            Path parquet = dir.resolve("history.parquet");
            spark.sql("SELECT 'h5' AS id, 'purchase' AS type, CAST('2025-01-05T10:00:50Z' AS TIMESTAMP) AS ts, "
                    + "map('product', 'p1', 'country', 'NP', 'amount', '1.25', 'user_id', 'c') AS attrs").write().parquet(parquet.toString());
            // an import an older release archived: no parser version, and its parser rejected h6, which today's accepts
            Dataset<Row> h6 = spark.createDataFrame(List.of(RowFactory.create((Object) ("{\"id\":\"h6\",\"type\":\"purchase\","
                    + "\"ts\":\"2025-01-05T11:00:55.5+01:00\",\"attrs\":{\"product\":\"p1\",\"country\":\"NP\",\"amount\":\"5.00\"}}")
                    .getBytes(StandardCharsets.UTF_8))), new StructType().add("value", DataTypes.BinaryType));
            FileImport.toMasterRows(h6, java.sql.Timestamp.from(Instant.now()), java.time.Duration.ofMinutes(5))
                    .drop("parser_version").withColumn("valid", functions.lit(false)).withColumn("reject_reason", functions.lit("bad_ts"))
                    .withColumn("event_id", functions.lit(null).cast("string")).withColumn("event_type", functions.lit(null).cast("string"))
                    .withColumn("event_ts", functions.lit(null).cast("timestamp"))
                    .withColumn("attrs", functions.lit(null).cast("map<string,string>"))
                    .write().partitionBy("ingest_date").parquet(new MasterDataset(f.master.toString()).importPath("20250301T000000000Z"));
            spark.stop();
            Main.run(f.config("import", "--input", parquet.toString(), "--format", "parquet"), BatchFixture.VIEWS);

            Thread.sleep(1_100);
            String cutoff = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
            Main.run(f.config("recompute", "--cutoff", cutoff), BatchFixture.VIEWS);

            ViewState state = f.published("sales");
            assertEquals(5, state.eventsIn(), "h1, h2 twice, h5 and h6 are valid; the malformed and the future one are not");
            assertEquals(1, state.duplicatesDropped());
            var sales = BatchFixture.VIEWS.find("sales").orElseThrow();
            var rows = new dev.lambda.common.cassandra.BatchRowsTable(f.session, f.keyspace()).read(sales, state.generation(),
                    dev.lambda.common.time.Granularity.DAY, java.time.Instant.parse("2025-01-01T00:00:00Z")).toCompletableFuture().join();
            assertEquals(1, rows.size());
            assertEquals(4L, rows.get(0).aggregate().get(0).read());
            assertEquals(new java.math.BigDecimal("18.75"), rows.get(0).aggregate().get(1).read());

            // an import killed an hour ago, silent since: it holds the next cutoff back no longer, and is removed
            MasterDataset master = new MasterDataset(f.master.toString());
            Path killed = Path.of(master.importUnderWayPath(MasterDataset.importId(Instant.now().minusSeconds(3600))));
            Files.createDirectories(killed);
            for (String mark : List.of("_begun", "_alive")) {
                Files.writeString(killed.resolve(mark), "");
                Files.setLastModifiedTime(killed.resolve(mark), java.nio.file.attribute.FileTime.from(Instant.now().minusSeconds(3600)));
            }
            Thread.sleep(1_100);
            String later = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int exit = Main.execute(f.args("recompute", "--cutoff", later).toArray(String[]::new), Map.of(),
                    new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            String said = err.toString(StandardCharsets.UTF_8);
            assertEquals(0, exit, "a cutoff past the killed import's start is taken: " + said);
            assertTrue(said.contains("removed ") && said.contains(killed.getFileName().toString())
                    && said.contains("taken for killed, it holds the cutoff back no longer"), said);
            assertFalse(Files.exists(killed), "its folder is gone");
            try (Stream<Path> aside = Files.list(f.master.resolve("_imports_abandoned"))) {
                assertEquals(List.of(), aside.toList(), "moved aside, then deleted");
            }
            assertEquals(Instant.parse(later), f.published("sales").cutoff());
        }
    }

    /**
     * A cutoff given before any ingest, while Kafka already holds events before it (the speed layer
     * not yet started, or not yet flushed, so nothing in the keyspace shows them): those events would
     * be in neither layer's answer until a later batch.
     */
    @Test
    void aCutoffGivenBeforeAnyIngestIsRefusedWhileKafkaHoldsRecordsBeforeIt(LocalCluster cluster, @TempDir Path dir) throws Exception {
        try (BatchFixture f = new BatchFixture(cluster, "unarchived", dir, 12)) {
            f.produce(50);
            Thread.sleep(1_100);
            String cutoff = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Main.run(f.config("recompute", "--cutoff", cutoff), BatchFixture.VIEWS));
            assertTrue(e.getMessage().contains("holds records appended before cutoff " + cutoff), e.getMessage());
            ViewDefinition sales = BatchFixture.VIEWS.find("sales").orElseThrow();
            assertTrue(new ViewStateTable(f.session, f.keyspace()).find(sales.name(), sales.version()).toCompletableFuture().join()
                    .isEmpty(), "nothing published");

            assertEquals(List.of(), EventsTopic.partitionsWithRecordsBefore(f.config("recompute").kafka(), "batch_no_such_topic",
                    Instant.now()), "a topic that does not exist holds nothing a cutoff could leave out");

            Main.run(f.config("run"), BatchFixture.VIEWS); // archived first, then the same cutoff or a later one is taken
            List<String> diffs = f.differences(f.published("sales").generation(), f.published("sales").cutoff());
            assertTrue(diffs.isEmpty(), diffs.toString());
        }
    }

    private static long count(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("\\d+(\\.compact)?")).count();
        }
    }
}
