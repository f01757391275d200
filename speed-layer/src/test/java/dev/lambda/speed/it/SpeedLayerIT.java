package dev.lambda.speed.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.cluster.CassandraNode;
import dev.lambda.cluster.KafkaBroker;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.Ports;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.speed.SpeedLayer;
import dev.lambda.speed.config.PublishedCutoffs;
import dev.lambda.speed.config.SpeedConfig;
import dev.lambda.speed.sink.RowsNotWrittenException;
import dev.lambda.speed.sink.SpeedRowSink;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongPredicate;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The speed layer on real Kafka and Cassandra: exact rows, crash safety, scale-out. */
@ExtendWith(LocalClusterExtension.class)
class SpeedLayerIT {

    private static final Duration CATCH_UP = Duration.ofSeconds(90);

    private static SpeedLayer startInProcess(SpeedFixture f, Path stateDir) {
        return SpeedLayer.start(config(f, stateDir), SpeedFixture.VIEWS);
    }

    @Test
    void rowsEqualTheOracleRejectsAreInTheDeadLetterTopicAndTheMetricsEndpointCountsThem(LocalCluster cluster, @TempDir Path state)
            throws Exception {
        try (SpeedFixture f = new SpeedFixture(cluster, "exact", 1)) {
            f.produce(3_000);
            int metricsPort = Ports.free();
            try (SpeedLayer layer = SpeedLayer.start(config(f, state, "--metrics-port", Integer.toString(metricsPort)),
                    SpeedFixture.VIEWS)) {
                // a reject the producer takes (1 MiB less the framing) but not once the dead-letter headers are added
                int huge = 1024 * 1024 - 200;
                f.produceMalformed(huge);
                f.produce(3_000); // while it runs
                f.awaitExact(CATCH_UP);
                var dlq = f.deadLetters(f.malformedSent(), Duration.ofSeconds(30));
                assertEquals(f.malformedSent(), dlq.size());
                int cut = 0;
                for (var r : dlq) {
                    String reason = new String(r.headers().lastHeader("lambda.dlq.reason").value(), StandardCharsets.UTF_8);
                    assertTrue(reason.equals("malformed_json") || reason.equals("future_ts"), reason);
                    if (r.headers().lastHeader("lambda.dlq.truncated-from") != null) {
                        cut++;
                        assertEquals(Integer.toString(huge), new String(r.headers().lastHeader("lambda.dlq.truncated-from").value(),
                                StandardCharsets.UTF_8));
                        assertTrue(r.value().length > huge - 4096, "the first bytes of it: " + r.value().length);
                    }
                }
                assertEquals(1, cut, "only the huge reject is cut, to fit");
                assertTrue(layer.metrics().duplicatesDropped() > 0, "the stream had duplicates");

                // what an operator's Prometheus scrapes, by the names the README gives
                Map<String, Double> scraped = awaitScrape(metricsPort, m -> m.getOrDefault("lambda_speed_consumer_lag_records", -1.0) == 0
                        && flushedOffsets(m) == 6_001);
                assertTrue(scraped.get("lambda_speed_events_in_total") >= 6_001, scraped.toString());
                assertTrue(scraped.getOrDefault("lambda_speed_dead_letters_total{reason=\"malformed_json\"}", 0.0)
                        + scraped.getOrDefault("lambda_speed_dead_letters_total{reason=\"future_ts\"}", 0.0) >= f.malformedSent());
                assertTrue(scraped.get("lambda_speed_duplicates_dropped_total") > 0);
                assertTrue(scraped.get("lambda_speed_rows_flushed_total") > 0);
                assertTrue(scraped.get("lambda_speed_view_updates_total{view=\"sales\"}") > 0);
                double freshness = scraped.get("lambda_speed_freshness_seconds");
                assertTrue(freshness >= 0 && freshness < CATCH_UP.toSeconds() * 2, "seconds since the newest flushed ingest: " + freshness);
            }
        }
    }

    /** Scrapes the layer's /metrics until {@code done} holds of its samples (name with labels → value); the last scrape. */
    private static Map<String, Double> awaitScrape(int port, Predicate<Map<String, Double>> done) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        Map<String, Double> samples;
        do {
            String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            samples = new HashMap<>();
            for (String line : text.split("\n")) {
                int space = line.lastIndexOf(' ');
                if (!line.startsWith("#") && space > 0) {
                    samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
                }
            }
            if (done.test(samples)) {
                return samples;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the scraped metrics never showed every record flushed and no lag: " + samples);
    }

    private static double flushedOffsets(Map<String, Double> samples) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith("lambda_speed_flushed_offset{"))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    @Test
    void killedAbruptlyMidStreamAndRestartedTheRowsAreStillExact(LocalCluster cluster, @TempDir Path state) throws Exception {
        try (SpeedFixture f = new SpeedFixture(cluster, "kill", 2)) {
            f.produce(2_000);
            Process first = fork(f, state, "first");
            try {
                // once it has flushed the first records and part of a burst, kill it
                awaitRecordedProgress(f, n -> n >= 2_000, "the first instance flushed nothing; see target/speed-kill-first.log");
                Thread producer = new Thread(() -> f.produce(20_000));
                producer.start();
                awaitRecordedProgress(f, n -> n > 2_000, "the first instance flushed none of the burst");
                first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no close, no commit, no flush
                producer.join();
                long flushed = recordedProgress(f);
                assertTrue(flushed < 22_000, "mid-stream: " + flushed + " of 22,000 records flushed when it was killed");
            } finally {
                first.destroyForcibly();
            }
            f.produce(1_000);
            Process second = fork(f, state, "second");
            try {
                f.awaitExact(CATCH_UP);
            } finally {
                second.destroy();
                second.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void writesThatFailWhileCassandraIsDownAreRetriedUntilTheRowsAreExact(LocalCluster cluster, @TempDir Path state,
                                                                          @TempDir Path cassandraDir) throws Exception {
        CassandraNode node = CassandraNode.start(cassandraDir, 0, false);
        int port = node.contactPoint().getPort();
        // 1 s slots: the rows of each new slot wait for their slot width to be recorded, through the outage too
        try (SpeedFixture f = new SpeedFixture(cluster, node, "outage", 4);
             SpeedLayer layer = SpeedLayer.start(config(f, state, "--slot-width", "1s"), SpeedFixture.VIEWS)) {
            f.produce(2_000);
            f.awaitExact(CATCH_UP);
            // the flush that wrote the last rows counts them after its writes: taken once the count stands still for a second
            long rowsBefore = layer.metrics().rowsFlushed();
            for (long settledBy = System.nanoTime() + CATCH_UP.toNanos(); System.nanoTime() < settledBy; ) {
                Thread.sleep(1_000);
                long rows = layer.metrics().rowsFlushed();
                if (rows == rowsBefore) {
                    break;
                }
                rowsBefore = rows;
            }
            node.close(); // Cassandra goes away with the layer running
            long readBefore = layer.metrics().eventsIn();
            f.produce(2_000);
            // each flush tries for 10 s, then gives its rows back to a later flush, and the stream threads read on
            long givenBackBy = System.nanoTime() + CATCH_UP.toNanos();
            while ((layer.metrics().flushesGivenBack() == 0 || layer.metrics().eventsIn() < readBefore + 2_000)
                    && System.nanoTime() < givenBackBy) {
                Thread.sleep(200);
            }
            assertTrue(layer.metrics().flushesGivenBack() > 0, "no flush gave its rows back while Cassandra was down");
            assertTrue(layer.metrics().eventsIn() >= readBefore + 2_000, "the layer stopped reading while Cassandra was down: "
                    + (layer.metrics().eventsIn() - readBefore) + " of 2,000 records read");
            assertEquals(rowsBefore, layer.metrics().rowsFlushed(), "nothing counted as flushed while Cassandra was down");
            node = CassandraNode.start(cassandraDir, port, false);
            f.awaitExact(CATCH_UP);
            awaitRunning(layer); // a long outage may have cost a rebalance
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            List<String> unrecorded = unrecordedWidths(f);
            while (!unrecorded.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(200);
                unrecorded = unrecordedWidths(f);
            }
            assertEquals(List.of(), unrecorded, "every partition's 1 s width recorded as far as its rows reach");
        } finally {
            node.close();
        }
    }

    /**
     * The broker crashes while the layer has records to process and transactions open, and comes back
     * on its data: the layer rides it out and its rows are exact (no event lost or counted twice).
     */
    @Test
    void aKafkaBrokerThatCrashesMidStreamAndComesBackLeavesTheRowsExact(LocalCluster cluster, @TempDir Path state,
                                                                      @TempDir Path kafkaDir) throws Exception {
        KafkaBroker broker = KafkaBroker.start(kafkaDir, 0);
        int port = broker.port();
        try (SpeedFixture f = new SpeedFixture(broker, cluster.cassandra(), "kafka_crash", 6);
             SpeedLayer layer = startInProcess(f, state)) {
            f.produce(2_000);
            f.awaitExact(CATCH_UP);
            long deadline = System.nanoTime() + CATCH_UP.toNanos();
            while (flushedRecords(layer) < 2_000 && System.nanoTime() < deadline) {
                Thread.sleep(100); // the rows are exact; the flush reports its offsets once its progress is written
            }
            assertEquals(2_000, flushedRecords(layer));
            f.produce(20_000);
            long flushed = flushedRecords(layer);
            broker.kill(); // SIGKILL
            assertTrue(flushed < 22_000, "mid-stream: " + flushed + " of 22,000 records flushed just before the broker died");
            Thread.sleep(3_000);
            broker = KafkaBroker.start(kafkaDir, port);
            f.produce(2_000);
            f.awaitExact(CATCH_UP);
            awaitRunning(layer);
        } finally {
            broker.close();
        }
    }

    /** How many records of the scenario's topic the layer reported flushed, over every partition. */
    /** Records before the next offset each partition's progress in {@code speed_partitions} names. */
    private static long recordedProgress(SpeedFixture f) {
        return f.partitions().stream().mapToLong(SpeedPartitionStatus::nextOffset).sum();
    }

    private static void awaitRecordedProgress(SpeedFixture f, LongPredicate reached, String otherwise) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (!reached.test(recordedProgress(f)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(reached.test(recordedProgress(f)), otherwise + " (" + recordedProgress(f) + " records)");
    }

    private static long flushedRecords(SpeedLayer layer) {
        return IntStream.range(0, SpeedFixture.PARTITIONS).mapToLong(p -> Math.max(0, layer.metrics().flushedOffset(p))).sum();
    }

    /** The partitions whose recorded 1 s width does not reach their newest ingest. */
    private static List<String> unrecordedWidths(SpeedFixture f) {
        return f.partitions().stream().filter(p -> p.newestIngest() != null
                        && !p.newestIngest().equals(p.slotWidths().get(Duration.ofSeconds(1))))
                .map(p -> p.partition() + ": " + p.newestIngest() + " vs " + p.slotWidths()).toList();
    }

    /** Waits until the layer's consumer group has {@code members} members, each assigned a partition of the events topic. */
    private static void awaitMembersWithPartitions(SpeedFixture f, int members) throws Exception {
        String applicationId = "speed-" + f.name;
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        String seen = "no group yet";
        try (Admin admin = f.kafka.admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    var group = admin.describeConsumerGroups(List.of(applicationId)).all().get().get(applicationId);
                    seen = group.members().stream().map(m -> m.assignment().topicPartitions().toString()).toList().toString();
                    if (group.members().size() == members && group.members().stream().allMatch(
                            m -> m.assignment().topicPartitions().stream().anyMatch(tp -> tp.topic().equals(f.topic)))) {
                        return;
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                        throw e;
                    }
                    // the instances have not joined yet
                }
                Thread.sleep(200);
            }
        }
        throw new AssertionError("group " + applicationId + " did not reach " + members + " members holding partitions of "
                + f.topic + " within " + CATCH_UP.toSeconds() + " s; last seen: " + seen);
    }

    /** Waits until the instance is RUNNING (a rebalance may still be finishing when its rows are already exact). */
    private static void awaitRunning(SpeedLayer layer) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (layer.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(KafkaStreams.State.RUNNING, layer.state());
    }

    @Test
    void twoInstancesSharingTheTopicGiveTheSameTotalsAsOne(LocalCluster cluster, @TempDir Path stateA, @TempDir Path stateB) throws Exception {
        try (SpeedFixture f = new SpeedFixture(cluster, "twins", 3)) {
            try (SpeedLayer a = startInProcess(f, stateA); SpeedLayer b = startInProcess(f, stateB)) {
                // the first to join takes every partition until the second joins: the events come once both hold some
                awaitMembersWithPartitions(f, 2);
                f.produce(6_000);
                f.awaitExact(CATCH_UP);
                awaitRunning(a);
                awaitRunning(b);
                assertTrue(a.metrics().eventsIn() > 0 && b.metrics().eventsIn() > 0,
                        "both instances took partitions: " + a.metrics().eventsIn() + " / " + b.metrics().eventsIn());
            }
        }
    }

    @Test
    void stoppedWithSigtermItLeavesEveryEventItReadInTheRows(LocalCluster cluster, @TempDir Path state) throws Exception {
        try (SpeedFixture f = new SpeedFixture(cluster, "sigterm", 5)) {
            f.produce(3_000);
            // no flush within the test: whatever reaches Cassandra is written while the process stops
            Process layer = fork(f, state, "run", "--flush-interval", "1h");
            try {
                awaitCommittedToTheEnd(f, CATCH_UP);
                assertEquals(0, f.speedRowCount(), "nothing was flushed before the stop");
                layer.destroy(); // SIGTERM, as a service manager or Kubernetes stops it
                assertTrue(layer.waitFor(60, TimeUnit.SECONDS), "still running 60 s after SIGTERM; see target/speed-sigterm-run.log");
            } finally {
                layer.destroyForcibly();
            }
            f.awaitExact(Duration.ZERO); // the process is gone: the rows are final
        }
    }

    /**
     * An instance whose stream thread stalls in a flush loses its partitions to a second instance,
     * which writes the rows on. When the stalled flush goes through, it carries the values the
     * first instance had, older than the rows' by then: they must not replace them.
     */
    @Test
    void anInstanceThatLostItsPartitionsWhileStalledCannotReplaceTheNewOwnersRows(LocalCluster cluster, @TempDir Path stateA,
                                                                                 @TempDir Path stateB) throws Exception {
        try (SpeedFixture f = new SpeedFixture(cluster, "stall", 6)) {
            // one-hour slots keep both instances' writes in the same rows. A stalled member is dropped after
            // 8 s, and its open transaction, which holds back the new owner's reads, is aborted after 10 s
            String[] extra = {"--slot-width", "1h", "--kafka-property", "consumer.max.poll.interval.ms=8000",
                "--kafka-property", "producer.transaction.timeout.ms=10000"};
            StallingSink stall = new StallingSink();
            try (SpeedLayer a = SpeedLayer.start(config(f, stateA, extra), SpeedFixture.VIEWS, stall::around)) {
                f.produce(1_000);
                f.awaitExact(CATCH_UP);
                stall.holdNextWrite();
                f.produce(1_000);
                assertTrue(stall.held.await(CATCH_UP.toSeconds(), TimeUnit.SECONDS), "the first instance flushed nothing");
                try (SpeedLayer b = SpeedLayer.start(config(f, stateB, extra), SpeedFixture.VIEWS)) {
                    f.produce(2_000); // the same rows change again, and only the second instance reads it
                    f.awaitExact(CATCH_UP);
                    stall.release.countDown();
                    assertTrue(stall.written.await(CATCH_UP.toSeconds(), TimeUnit.SECONDS), "the stalled flush did not go through");
                    f.awaitExact(Duration.ZERO);
                }
            }
        }
    }

    private static SpeedConfig config(SpeedFixture f, Path stateDir, String... extraArgs) {
        List<String> args = f.args(stateDir);
        args.addAll(List.of(extraArgs));
        return SpeedConfig.from(SpeedConfig.flags(args.toArray(String[]::new), Map.of()));
    }

    /** Wraps the layer's sink: the next write after {@link #holdNextWrite()} waits for {@link #release}, then writes. */
    private static final class StallingSink {
        private final AtomicBoolean hold = new AtomicBoolean();
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch written = new CountDownLatch(1);

        void holdNextWrite() {
            hold.set(true);
        }

        SpeedRowSink around(SpeedRowSink sink) {
            return new SpeedRowSink() {
                @Override
                public long writeAll(List<Write> rows, long writeTime) throws InterruptedException, RowsNotWrittenException {
                    if (!rows.isEmpty() && hold.compareAndSet(true, false)) {
                        held.countDown();
                        release.await();
                        long work = sink.writeAll(rows, writeTime);
                        written.countDown();
                        return work;
                    }
                    return sink.writeAll(rows, writeTime);
                }

                @Override
                public boolean tryWriteAll(List<Write> rows, long writeTime, long deadlineNanos) throws InterruptedException {
                    return sink.tryWriteAll(rows, writeTime, deadlineNanos);
                }

                @Override
                public boolean writeProgress(Progress progress, long writeTime) throws InterruptedException {
                    return sink.writeProgress(progress, writeTime);
                }

                @Override
                public boolean recordViewVersions(int partition, Map<String, Instant> versions) throws InterruptedException {
                    return sink.recordViewVersions(partition, versions);
                }
            };
        }
    }

    /** Waits until the layer's consumer group has committed every record of the topic as processed. */
    private static void awaitCommittedToTheEnd(SpeedFixture f, Duration timeout) throws Exception {
        try (Admin admin = f.kafka.admin()) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < SpeedFixture.PARTITIONS; p++) {
                latest.put(new TopicPartition(f.topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> ends = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> committed = new HashMap<>();
            while (!committed.equals(ends) && System.nanoTime() < deadline) {
                Thread.sleep(200);
                committed.clear();
                admin.listConsumerGroupOffsets("speed-" + f.name).partitionsToOffsetAndMetadata().get()
                        .forEach((tp, o) -> committed.put(tp, o.offset()));
            }
            assertEquals(ends, committed, "offsets committed by the layer");
        }
    }

    /**
     * The batch published on 1 min slots; a speed layer on 1 h slots puts events ingested after the
     * cutoff in a slot before it, counted by neither layer until the batch publishes past that slot:
     * the operator is told which events, and until when.
     */
    @Test
    void tellsWhichEventsASlotWidthThatAPublishedCutoffIsNotABoundaryOfLeavesUncounted(LocalCluster cluster, @TempDir Path state)
            throws Exception {
        try (SpeedFixture f = new SpeedFixture(cluster, "cutoff_width", 37)) {
            f.published("sales", Instant.parse("2026-11-24T10:30:00Z"));
            ViewStateTable states = f.viewStates();
            List<String> warnings = PublishedCutoffs.warnings(states, SpeedFixture.VIEWS, new IngestSlots(Duration.ofHours(1)));
            assertEquals(1, warnings.size(), warnings.toString());
            String warning = warnings.get(0);
            assertTrue(warning.startsWith("view sales is published with cutoff 2026-11-24T10:30:00Z, which is not a boundary of"
                    + " --slot-width PT1H"), warning);
            assertTrue(warning.contains("ingested from 2026-11-24T10:30:00Z to 2026-11-24T11:00:00Z"), warning);
            assertTrue(warning.contains("until the batch publishes a cutoff at or after 2026-11-24T11:00:00Z"), warning);
            assertEquals(List.of(), PublishedCutoffs.warnings(states, SpeedFixture.VIEWS, new IngestSlots(Duration.ofMinutes(30))),
                    "a width the cutoff is a boundary of");
            assertEquals(List.of(), PublishedCutoffs.warnings(states, SpeedFixture.VIEWS, new IngestSlots(Duration.ofMinutes(1))));
        }
    }

    /**
     * A batch run with another definition of pageviews retired this one: nobody reads the rows the
     * layer writes for it; told beside any other view's warning.
     */
    @Test
    void tellsThatAViewVersionOfItsViewsFileWasRetired(LocalCluster cluster) {
        try (SpeedFixture f = new SpeedFixture(cluster, "retired_version", 37)) {
            f.published("pageviews", Instant.parse("2026-11-24T10:00:00Z"));
            f.published("sales", Instant.parse("2026-11-24T10:30:00Z"));
            ViewStateTable states = f.viewStates();
            ViewState pageviews = states.find("pageviews", SpeedFixture.VIEWS.find("pageviews").orElseThrow().version())
                    .toCompletableFuture().join().orElseThrow();
            Instant retiredAt = Instant.parse("2026-11-24T12:00:00Z");
            assertTrue(states.retire(pageviews, "0123456789ab", retiredAt, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture()
                    .join());
            List<String> warnings = PublishedCutoffs.warnings(states, SpeedFixture.VIEWS, new IngestSlots(Duration.ofHours(1)));
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).startsWith("view pageviews has version " + pageviews.version() + " in this layer's views file,"
                    + " which the batch layer retired at 2026-11-24T12:00:00Z for version 0123456789ab"), warnings.get(0));
            assertTrue(warnings.get(1).startsWith("view sales is published with cutoff 2026-11-24T10:30:00Z"), warnings.get(1));
        }
    }

    @Test
    void refusesToStartOnATopicWithProducerTimestamps(LocalCluster cluster, @TempDir Path state) throws Exception {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic("events_create_time", 1, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime"))));
        }
        var c = cluster.cassandra().contactPoint();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.lambda.speed.Main",
                "--bootstrap", cluster.bootstrapServers(), "--topic", "events_create_time",
                "--cassandra", c.getHostString() + ":" + c.getPort(), "--keyspace", "speed_create_time",
                "--views", Path.of("..", "config", "views.yml").toString(), "--state-dir", state.toString(), "--metrics-port", "0"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running: " + output);
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains("speed-layer: Kafka topic events_create_time has message.timestamp.type=CreateTime"), output);
    }

    /** Runs the speed layer's Main in its own JVM (so it can be killed like a real process). */
    private static Process fork(SpeedFixture f, Path stateDir, String label, String... extraArgs) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "dev.lambda.speed.Main"));
        command.addAll(f.args(stateDir));
        // the killed member leaves no goodbye; a short session lets the group notice within seconds
        command.addAll(List.of("--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=1000"));
        command.addAll(List.of(extraArgs));
        File log = Path.of("target", "speed-" + f.name + "-" + label + ".log").toFile();
        Files.createDirectories(log.toPath().getParent());
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }
}
