package dev.lambda.speed.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverException;
import dev.lambda.cluster.CassandraNode;
import dev.lambda.cluster.KafkaBroker;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.speed.testing.Oracle;
import dev.lambda.speed.testing.RandomEvents;
import dev.lambda.speed.testing.SpeedRowsCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One isolated speed-layer scenario on the shared real cluster: its own topics, keyspace and
 * application id, a producer of seeded random events (with duplicates, late events and malformed
 * records), the oracle fed with what was sent, and the check of Cassandra against it.
 */
final class SpeedFixture implements AutoCloseable {

    static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    static final int PARTITIONS = 3;

    final KafkaBroker kafka;
    private final CassandraNode cassandra;
    final String name;
    final String topic;
    final String dlqTopic;
    final Oracle oracle = new Oracle(Duration.ofHours(24).toMillis());
    private final RandomEvents events;
    private final Random random;
    private final KafkaProducer<byte[], byte[]> producer;
    private final CqlSession session;
    private long sequence;
    private int malformed;

    SpeedFixture(LocalCluster cluster, String name, long seed) {
        this(cluster.kafka(), cluster.cassandra(), name, seed);
    }

    /** A scenario whose rows go to {@code cassandra} instead of the cluster's node (one a test may stop). */
    SpeedFixture(LocalCluster cluster, CassandraNode cassandra, String name, long seed) {
        this(cluster.kafka(), cassandra, name, seed);
    }

    /** A scenario on servers of its own (ones a test may stop). */
    SpeedFixture(KafkaBroker kafka, CassandraNode cassandra, String name, long seed) {
        this.kafka = kafka;
        this.cassandra = cassandra;
        this.name = name;
        this.topic = "events_" + name;
        this.dlqTopic = "events_" + name + ".dlq";
        this.events = new RandomEvents(seed);
        this.random = new Random(seed);
        try (Admin admin = kafka.admin()) {
            SystemTopics.create(admin, List.of(
                    new NewTopic(topic, PARTITIONS, (short) 1).configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime")),
                    new NewTopic(dlqTopic, 1, (short) 1)));
        }
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(), new ByteArraySerializer());
        session = CassandraSessions.openWithSchema(cassandraSettings());
    }

    CassandraSettings cassandraSettings() {
        return new CassandraSettings(List.of(cassandra.contactPoint()), cassandra.localDatacenter(),
                keyspace(), Replication.simple(1), null, null);
    }

    String keyspace() {
        return "speed_" + name;
    }

    ViewStateTable viewStates() {
        return new ViewStateTable(session, keyspace());
    }

    /** Publishes an empty batch generation of {@code view} with {@code cutoff}, as the batch layer would. */
    void published(String view, Instant cutoff) {
        ViewDefinition v = VIEWS.find(view).orElseThrow();
        Instant now = Instant.now();
        assertTrue(viewStates().publish(new ViewState(v.name(), v.version(), 1, cutoff, now, now, 0, 0, 0, 0,
                null, now), null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
    }

    /** What the speed layer recorded of each input partition in this scenario's keyspace. */
    List<SpeedPartitionStatus> partitions() {
        return new SpeedPartitionsTable(session, keyspace()).readAll().toCompletableFuture().join();
    }

    /** The speed layer's command line for this scenario. */
    List<String> args(Path stateDir) {
        var c = cassandra.contactPoint();
        return new ArrayList<>(List.of("--bootstrap", kafka.bootstrapServers(), "--topic", topic, "--dlq-topic", dlqTopic,
                "--cassandra", c.getHostString() + ":" + c.getPort(), "--cassandra-dc", cassandra.localDatacenter(),
                "--keyspace", keyspace(), "--views", Path.of("..", "config", "views.yml").toString(),
                "--application-id", "speed-" + name, "--state-dir", stateDir.toString(), "--metrics-port", "0",
                "--flush-interval", "200ms", "--slot-width", "1m"));
    }

    /** Sends {@code n} records: ~1% malformed, ~5% re-sent duplicates, ~5% late; returns when the broker has them. */
    void produce(int n) {
        List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int partition = random.nextInt(PARTITIONS);
            byte[] value;
            if (random.nextInt(100) == 0) {
                malformed++;
                value = (random.nextBoolean() ? "{\"id\":\"broken" : "{\"id\":\"x\",\"type\":\"purchase\",\"ts\":\""
                        + Instant.now().plus(Duration.ofDays(2)) + "\"}").getBytes(StandardCharsets.UTF_8);
            } else {
                var e = events.next(System.currentTimeMillis(), 0.05, 0.05);
                oracle.add(new Oracle.Accepted(e.id(), e.type(), e.ts(), e.attrs(), sequence++, partition));
                value = e.json().getBytes(StandardCharsets.UTF_8);
            }
            acks.add(producer.send(new ProducerRecord<>(topic, partition, null, value)));
        }
        producer.flush();
        for (var ack : acks) {
            try {
                ack.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("produce failed", e);
            }
        }
    }

    /** Sends one malformed record of {@code size} bytes, as close to Kafka's 1 MiB limit as a producer may go. */
    void produceMalformed(int size) throws Exception {
        byte[] value = ("{\"id\":\"huge\",\"type\":\"" + "z".repeat(size)).substring(0, size).getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>(topic, 0, null, value)).get(30, TimeUnit.SECONDS);
        malformed++;
    }

    int malformedSent() {
        return malformed;
    }

    /** Waits until Cassandra's speed rows equal the oracle over everything sent, failing with the differences. */
    void awaitExact(Duration timeout) throws InterruptedException {
        var expected = oracle.expected(Long.MIN_VALUE, Long.MAX_VALUE);
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> diffs;
        do {
            try {
                diffs = SpeedRowsCheck.differences(session, keyspace(), VIEWS, expected);
            } catch (DriverException e) { // a Cassandra a test restarted may not be reachable yet
                diffs = List.of("Cassandra not readable: " + e);
            }
            if (diffs.isEmpty()) {
                return;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        fail(diffs.size() + " groups differ from the oracle, e.g.:\n" + String.join("\n", diffs.subList(0, Math.min(15, diffs.size()))));
    }

    long speedRowCount() {
        return session.execute("SELECT count(*) FROM " + keyspace() + ".speed_rows_by_slot").one().getLong(0);
    }

    /** Every record on the dead-letter topic. */
    List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> deadLetters(int expected, Duration timeout) {
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(dlqTopic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(dlqTopic, 0)));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (all.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(all::add);
            }
            // anything beyond the expected count would be a bug too: read a little longer
            consumer.poll(Duration.ofMillis(500)).forEach(all::add);
        }
        return all;
    }

    @Override
    public void close() {
        producer.close();
        session.close();
    }
}
