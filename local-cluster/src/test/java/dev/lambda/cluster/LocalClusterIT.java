package dev.lambda.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalClusterExtension.class)
class LocalClusterIT {

    @Test
    void eventsTopicStampsIngestTimeAndRecordsRoundTripThroughTheBroker(LocalCluster cluster) throws Exception {
        long oldCreateTime = 1_000_000_000_000L; // 2001: a producer-side event time the broker must override
        long before = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 30; i++) {
                producer.send(new ProducerRecord<>(SystemTopics.EVENTS, null, oldCreateTime,
                        ("k" + i).getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            }
        }
        List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < LocalClusterExtension.TEST_EVENT_PARTITIONS; p++) {
                partitions.add(new TopicPartition(SystemTopics.EVENTS, p));
            }
            consumer.assign(partitions);
            long deadline = System.currentTimeMillis() + 30_000;
            while (read.size() < 30 && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
            }
        }
        assertEquals(30, read.size());
        List<String> values = read.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).sorted().toList();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            expected.add("v" + i);
        }
        assertEquals(expected.stream().sorted().toList(), values);
        for (ConsumerRecord<byte[], byte[]> r : read) {
            assertEquals(TimestampType.LOG_APPEND_TIME, r.timestampType());
            assertTrue(r.timestamp() >= before - 1000, "timestamp is the broker's append time, not the producer's");
        }
    }

    @Test
    void systemTopicsExistWithTheirConfigAndCreatingThemAgainIsHarmless(LocalCluster cluster) throws Exception {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, LocalClusterExtension.TEST_EVENT_PARTITIONS, 1);
            var descriptions = admin.describeTopics(List.of(SystemTopics.EVENTS, SystemTopics.DEAD_LETTERS)).allTopicNames().get();
            assertEquals(LocalClusterExtension.TEST_EVENT_PARTITIONS, descriptions.get(SystemTopics.EVENTS).partitions().size());
            assertEquals(1, descriptions.get(SystemTopics.DEAD_LETTERS).partitions().size());
            ConfigResource events = new ConfigResource(ConfigResource.Type.TOPIC, SystemTopics.EVENTS);
            Config config = admin.describeConfigs(List.of(events)).all().get().get(events);
            assertEquals("LogAppendTime", config.get("message.timestamp.type").value());
        }
    }

    @Test
    void cassandraAnswersCql(LocalCluster cluster) {
        try (CqlSession session = CqlSession.builder().addContactPoint(cluster.cassandra().contactPoint())
                .withLocalDatacenter(cluster.cassandra().localDatacenter()).build()) {
            String version = session.execute("SELECT release_version FROM system.local").one().getString(0);
            assertTrue(version.startsWith("5."), "Cassandra 5 expected, got " + version);
        }
    }

    @Test
    void aTakenPortIsNamedInTheError(LocalCluster cluster) {
        var error = assertThrows(IllegalStateException.class, () -> Ports.resolve(cluster.kafka().port(), "Kafka"));
        assertTrue(error.getMessage().contains("Kafka port " + cluster.kafka().port() + " is already in use"), error.getMessage());
        assertFalse(Ports.isListening(Ports.free()));
    }
}
