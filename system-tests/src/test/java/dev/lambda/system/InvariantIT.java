package dev.lambda.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.MetricType;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.serving.config.ServingConfig;
import dev.lambda.speed.SpeedLayer;
import dev.lambda.speed.config.SpeedConfig;
import io.javalin.Javalin;
import java.math.BigDecimal;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The invariant (DESIGN §8) end to end on the real stack: a seeded random stream fed through Kafka
 * in waves, the speed layer and the REST API running, the batch layer (local Spark) run between
 * waves and during one. Whenever the speed layer has caught up, random queries through the HTTP API
 * equal {@link Oracle} at the cutoff the answer reports: exactly for counts, sums, min and max,
 * within the HLL error for distinct counts. Every malformed record ends up in the dead-letter topic.
 */
@ExtendWith(LocalClusterExtension.class)
class InvariantIT {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final String TOPIC = "invariant_events";
    private static final String DLQ = "invariant_dlq";
    private static final String KEYSPACE = "invariant";
    private static final Duration DEDUP_WINDOW = Duration.ofSeconds(20);
    private static final String SLOT = "2s";
    private static final Duration STATE_TTL = Duration.ofSeconds(1);
    private static final int WAVE = 2500;
    private static final int QUERIES = 40;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final long seed = Long.getLong("invariant.seed", 20261121L);
    private final Random queryRandom = new Random(seed);
    /** Queries of a time zone's hours or days that found rows, over the whole test. */
    private int zonedWithRows;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Oracle.Sent> sent = new ArrayList<>();
    private LocalCluster cluster;
    private Path dir;
    private SpeedLayer speed;
    private Javalin api;
    /** The views file every layer runs: {@link #VIEWS}, until the test changes a view. */
    private ViewCatalog views = VIEWS;

    @Test
    void everyAnswerEqualsTheOracleBeforeDuringAndAfterBatchRuns(LocalCluster cluster, @TempDir Path dir) throws Exception {
        this.cluster = cluster;
        this.dir = dir;
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(
                    new NewTopic(TOPIC, LocalClusterExtension.TEST_EVENT_PARTITIONS, (short) 1)
                            .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime")),
                    new NewTopic(DLQ, 1, (short) 1)));
        }
        var node = cluster.cassandra();
        try (CqlSession ignored = CassandraSessions.openWithSchema(new CassandraSettings(List.of(node.contactPoint()),
                node.localDatacenter(), KEYSPACE, Replication.simple(1), null, null))) {
            // the schema exists before the layers start
        }
        TestStream stream = new TestStream(seed);
        startSpeedAndApi();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 5), new StringSerializer(), new ByteArraySerializer())) {

            send(producer, stream.wave(WAVE, Instant.now()));
            awaitSpeedCaughtUp();
            checkQueries("wave 1, before any batch run", false);

            runBatch();
            checkQueries("after batch run 1", true);

            awaitBeyondDedupWindow();
            send(producer, stream.wave(WAVE, Instant.now())); // re-sends wave 1 records beyond the window
            awaitSpeedCaughtUp();
            checkQueries("wave 2, after batch run 1", true);

            // wave 3 goes in while batch run 2 ingests and recomputes; queries run while it is still going
            CompletableFuture<Void> batch = CompletableFuture.runAsync(() -> runBatchOnly());
            for (int chunk = 0; chunk < 5; chunk++) {
                send(producer, stream.wave(WAVE / 5, Instant.now()));
            }
            awaitSpeedCaughtUp();
            int roundsDuringBatch = 0;
            while (!batch.isDone()) {
                checkQueries("wave 3, batch run 2 in progress", false);
                if (!batch.isDone()) {
                    roundsDuringBatch++; // a round that ended before the batch run did
                }
            }
            batch.get();
            assertTrue(roundsDuringBatch > 0, "no query round ran while batch run 2 was running; the test proved nothing about it");
            awaitNewGeneration();
            checkQueries("wave 3, after batch run 2", true);

            // the last batch covers every record: answers are the plain aggregation over the deduplicated events
            long newest = sent.stream().mapToLong(Oracle.Sent::ingestMillis).max().orElseThrow();
            Thread.sleep(Math.max(0, newest + 2 * 2000 - System.currentTimeMillis()));
            runBatch();
            checkQueries("after the final batch run", true);
            assertCutoffAfter(newest);
            assertSpeedStatusCountsEveryDuplicateAndDeadLetter();
            assertSomeCopiesLandedInAnotherPartition();
            assertTrue(zonedWithRows >= 5, "only " + zonedWithRows + " queries of a time zone's buckets found rows");

            // sales changed in place (a new version): the speed layer, restarted with the new file, has the new version's
            // rows of the records from its restart on only, so the batch publishes it only at a cutoff past that
            long now = System.currentTimeMillis();
            Instant beforeRestart = Instant.ofEpochMilli(now - now % 2000); // a slot boundary before the next wave
            send(producer, stream.wave(WAVE / 5, Instant.now()));
            awaitSpeedCaughtUp();
            api.stop();
            speed.close();
            views = new ViewCatalogLoader().parse(Files.readString(Path.of("..", "config", "views.yml"))
                    .replace("dimensions: [product, country]", "dimensions: [country, product]"));
            assertNotEquals(VIEWS.find("sales").orElseThrow().version(), views.find("sales").orElseThrow().version());
            startSpeedAndApi();
            send(producer, stream.wave(WAVE / 5, Instant.now()));
            awaitSpeedCaughtUp();
            runBatch("--cutoff", beforeRestart.toString());
            checkQueries("sales changed, after a batch run whose cutoff is before the speed layer's restart", Set.of("sales"));
            newest = sent.stream().mapToLong(Oracle.Sent::ingestMillis).max().orElseThrow();
            Thread.sleep(Math.max(0, newest + 2 * 2000 - System.currentTimeMillis()));
            runBatch();
            checkQueries("sales changed, after a batch run whose cutoff is past the speed layer's restart", true);
        } finally {
            api.stop();
            speed.close();
        }
        assertEveryMalformedRecordIsInTheDeadLetterTopic();
    }

    private void startSpeedAndApi() {
        speed = SpeedLayer.start(SpeedConfig.from(SpeedConfig.flags(args("--topic", TOPIC, "--dlq-topic", DLQ,
                "--application-id", "invariant-speed", "--slot-width", SLOT, "--dedup-window", "20s",
                "--state-dir", dir.resolve("speed-state").toString(), "--metrics-port", "0"), Map.of())), views);
        api = dev.lambda.serving.Main.start(ServingConfig.from(ServingConfig.flags(
                cassandraArgs("--host", "127.0.0.1", "--api-port", "0", "--state-ttl", "1s"), Map.of())), views);
    }

    private String[] args(String... extra) {
        return LayerArgs.withKafkaAndCassandra(cluster, KEYSPACE, extra);
    }

    private String[] cassandraArgs(String... extra) {
        return LayerArgs.withCassandra(cluster, KEYSPACE, extra);
    }

    private void send(KafkaProducer<String, byte[]> producer, List<TestStream.Outgoing> records) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (TestStream.Outgoing r : records) {
            acks.add(producer.send(new ProducerRecord<>(TOPIC, r.key(), r.value())));
        }
        for (int i = 0; i < records.size(); i++) {
            RecordMetadata m = acks.get(i).get(30, TimeUnit.SECONDS);
            synchronized (sent) {
                sent.add(new Oracle.Sent(m.partition(), m.offset(), m.timestamp(), records.get(i).event()));
            }
        }
    }

    private void runBatch(String... extra) {
        runBatchOnly(extra);
        awaitNewGeneration();
    }

    private void runBatchOnly(String... extra) {
        List<String> flags = new ArrayList<>(List.of("run", "--topic", TOPIC, "--master", dir.resolve("master").toString(),
                "--slot-width", SLOT, "--safety-margin", "0s", "--shuffle-partitions", "4", "--spark-master", "local[2]"));
        flags.addAll(List.of(extra));
        dev.lambda.batch.Main.run(BatchConfig.from(BatchConfig.flags(args(flags.toArray(String[]::new)), Map.of())), views);
    }

    private void awaitNewGeneration() {
        try {
            Thread.sleep(2 * STATE_TTL.toMillis() + 100); // the serving layer picks a new generation up within two --state-ttl
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitSpeedCaughtUp() throws Exception {
        SpeedCatchUp.await(cluster, TOPIC, speed, Duration.ofSeconds(90));
    }

    private void awaitBeyondDedupWindow() throws InterruptedException {
        long newest;
        synchronized (sent) {
            newest = sent.stream().mapToLong(Oracle.Sent::ingestMillis).max().orElse(0);
        }
        Thread.sleep(Math.max(0, newest + DEDUP_WINDOW.toMillis() + 1000 - System.currentTimeMillis()));
    }

    /** {@link #QUERIES} random queries through the API, each equal to the oracle at the cutoff its answer reports. */
    private void checkQueries(String moment, boolean expectBatch) throws Exception {
        checkQueries(moment, expectBatch, Set.of());
    }

    /** As above, but for the queries of {@code unpublished}, which must answer without a batch cutoff: from the speed layer alone. */
    private void checkQueries(String moment, Set<String> unpublished) throws Exception {
        checkQueries(moment, false, unpublished);
    }

    private void checkQueries(String moment, boolean expectBatch, Set<String> unpublished) throws Exception {
        Oracle oracle;
        synchronized (sent) {
            oracle = new Oracle(List.copyOf(sent), DEDUP_WINDOW);
        }
        int withCutoff = 0;
        int withRows = 0;
        for (int i = 0; i < QUERIES; i++) {
            QuerySpec q = QuerySpec.random(queryRandom, views, Instant.now());
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + q.path()))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            String where = moment + ", seed " + seed + ", GET " + q.path();
            assertEquals(200, response.statusCode(), where + " -> " + response.body());
            JsonNode answer = JSON.readTree(response.body());
            JsonNode cutoffNode = answer.path("freshness").path("batchCutoff");
            Instant cutoff = cutoffNode.isTextual() ? Instant.parse(cutoffNode.asText()) : null;
            withCutoff += cutoff == null ? 0 : 1;
            withRows += answer.path("rows").isEmpty() ? 0 : 1;
            zonedWithRows += q.zone() == null || answer.path("rows").isEmpty() ? 0 : 1;
            if (unpublished.contains(q.view().name())) {
                assertNull(cutoff, where + ": its speed rows lack records from the cutoff on, so no generation may be published");
                continue;
            }
            assertSameRows(where + " (cutoff " + cutoff + ")", q, oracle.answer(q, cutoff), answer.path("rows"));
        }
        assertTrue(withRows >= QUERIES / 2, moment + ": only " + withRows + " of " + QUERIES
                + " random queries found rows; the check would prove little");
        if (expectBatch) {
            assertEquals(QUERIES, withCutoff, moment + ": every answer should come from a published batch generation");
        }
    }

    private static void assertSameRows(String where, QuerySpec q, List<Map<String, Object>> expected, JsonNode rows) {
        String both = where + "\n expected " + abbreviate(expected.toString()) + "\n answered " + abbreviate(rows.toString());
        assertEquals(expected.size(), rows.size(), "row count differs: " + both);
        for (int i = 0; i < expected.size(); i++) {
            Map<String, Object> e = expected.get(i);
            JsonNode a = rows.get(i);
            if (e.containsKey("bucket")) {
                assertEquals(Instant.parse((String) e.get("bucket")), Instant.parse(a.path("bucket").asText()), "row " + i + " bucket: " + both);
            } else {
                assertTrue(a.path("bucket").isMissingNode(), "granularity all answers without buckets: " + both);
            }
            for (String d : q.groupBy()) {
                assertEquals(e.get(d), a.path(d).asText(), "row " + i + " " + d + ": " + both);
            }
            for (MetricSpec m : q.metrics()) {
                Object want = e.get(m.name());
                JsonNode got = a.path(m.name());
                String what = "row " + i + " " + m.name() + ": " + both;
                if (m.type() == MetricType.DISTINCT) {
                    long exact = (Long) want;
                    long estimate = got.asLong();
                    // HLL lgK 12: relative standard error 1.6 %; allow 3 sigma plus rounding
                    assertTrue(Math.abs(estimate - exact) <= Math.max(1, Math.ceil(exact * 0.05)),
                            what + " (estimate " + estimate + " vs exact " + exact + ")");
                } else if (want == null) {
                    assertTrue(got.isNull(), what);
                } else {
                    assertTrue(got.isNumber(), what);
                    assertEquals(0, new BigDecimal(want.toString()).compareTo(got.decimalValue()), what);
                }
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 1500 ? s.substring(0, 1500) + "…" : s;
    }

    private void assertCutoffAfter(long newestIngest) throws Exception {
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + "/api/v1/status"))
                .build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode view : JSON.readTree(status.body()).path("views")) {
            Instant cutoff = Instant.parse(view.path("batchCutoff").asText());
            assertTrue(cutoff.toEpochMilli() > newestIngest, view.path("view").asText() + ": the final cutoff " + cutoff
                    + " should lie after the newest record (" + Instant.ofEpochMilli(newestIngest) + ")");
        }
    }

    /** {@code /api/v1/status} reports the speed layer's duplicates and dead letters exactly (they are kept exactly once too). */
    private void assertSpeedStatusCountsEveryDuplicateAndDeadLetter() throws Exception {
        JsonNode speedStatus = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + "/api/v1/status"))
                .build(), HttpResponse.BodyHandlers.ofString()).body()).path("speed");
        long deadLetters = 0;
        for (JsonNode count : speedStatus.path("deadLetters")) {
            deadLetters += count.asLong();
        }
        assertEquals(sent.stream().filter(s -> s.event() == null).count(), deadLetters, "dead letters in /status: " + speedStatus);
        assertEquals(new Oracle(sent, DEDUP_WINDOW).speedDuplicates(), speedStatus.path("duplicatesDropped").asLong(),
                "duplicates dropped in /status");
        assertEquals(LocalClusterExtension.TEST_EVENT_PARTITIONS, speedStatus.path("partitions").size());
        for (JsonNode partition : speedStatus.path("partitions")) { // what the batch's cutoff was checked against
            List<String> widths = new ArrayList<>();
            partition.path("slotWidths").fieldNames().forEachRemaining(widths::add);
            Map<String, String> versions = new TreeMap<>();
            partition.path("viewVersions").fields().forEachRemaining(v -> versions.put(v.getKey(), v.getValue().asText()));
            Map<String, String> fromTheStart = new TreeMap<>(); // what a batch publish was checked against
            VIEWS.views().forEach(v -> fromTheStart.put(v.versionKey(), Instant.EPOCH.toString()));
            assertEquals(List.of(List.of("PT2S"), "[\"PT168H\"]", fromTheStart),
                    List.of(widths, partition.path("rowsTtls").toString(), versions), partition.toString());
        }
    }

    /** The stream's copies under another key must reach other partitions, or the checks above prove nothing about them. */
    private void assertSomeCopiesLandedInAnotherPartition() {
        Map<String, Set<Integer>> partitions = new HashMap<>();
        for (Oracle.Sent s : sent) {
            if (s.event() != null) {
                partitions.computeIfAbsent(s.event().id(), id -> new HashSet<>()).add(s.partition());
            }
        }
        long spread = partitions.values().stream().filter(p -> p.size() > 1).count();
        assertTrue(spread >= 10, "only " + spread + " events have copies in more than one partition");
    }

    private void assertEveryMalformedRecordIsInTheDeadLetterTopic() {
        Set<String> malformed = new HashSet<>();
        for (Oracle.Sent s : sent) {
            if (s.event() == null) {
                malformed.add(s.partition() + "/" + s.offset());
            }
        }
        assertTrue(malformed.size() > 50, "the stream should hold malformed records, has " + malformed.size());
        Set<String> deadLettered = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.GROUP_ID_CONFIG, "invariant-dlq-check"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(DLQ));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (deadLettered.size() < malformed.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    deadLettered.add(header(r, "lambda.source.partition") + "/" + header(r, "lambda.source.offset"));
                }
            }
        }
        assertEquals(malformed, deadLettered, "the dead-letter topic holds exactly the malformed records");
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
