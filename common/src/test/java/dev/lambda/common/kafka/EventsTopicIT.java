package dev.lambda.common.kafka;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.KafkaClientSettings;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The start-up check of the events topic against a real broker. */
@ExtendWith(LocalClusterExtension.class)
class EventsTopicIT {

    @Test
    void aTopicStampedByTheBrokerPasses(LocalCluster cluster) {
        KafkaClientSettings kafka = new KafkaClientSettings(cluster.bootstrapServers(), Map.of());
        assertDoesNotThrow(() -> EventsTopic.requireBrokerTimestamps(kafka, SystemTopics.EVENTS));
    }

    @Test
    void aTopicWithProducerTimestampsIsRefusedWithTheFix(LocalCluster cluster) {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic("create_time_events", 1, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime"))));
        }
        KafkaClientSettings kafka = new KafkaClientSettings(cluster.bootstrapServers(), Map.of());
        ConfigException e = assertThrows(ConfigException.class, () -> EventsTopic.requireBrokerTimestamps(kafka, "create_time_events"));
        assertTrue(e.getMessage().contains("create_time_events") && e.getMessage().contains("message.timestamp.type=CreateTime")
                && e.getMessage().contains("--add-config message.timestamp.type=LogAppendTime"), e.getMessage());
    }

    @Test
    void anOpenTransactionIsFoundWhereItBeganAndGoneOnceItCommits(LocalCluster cluster) throws Exception {
        KafkaClientSettings kafka = brokerStampedTopic(cluster, "open_transaction_events");
        try (KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer());
             KafkaProducer<byte[], byte[]> transactional = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ProducerConfig.TRANSACTIONAL_ID_CONFIG, "events-topic-it"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            plain.send(record(0)).get();
            assertEquals(Map.of(), EventsTopic.openTransactionStarts(kafka, "open_transaction_events"), "nothing open");

            transactional.initTransactions();
            transactional.beginTransaction();
            Instant first = Instant.ofEpochMilli(transactional.send(record(1)).get().timestamp());
            Thread.sleep(20);
            transactional.send(record(1)).get();
            plain.send(record(1)).get(); // committed, but after the open record: not readable before it either
            plain.send(record(0)).get();
            assertEquals(Map.of(1, first), EventsTopic.openTransactionStarts(kafka, "open_transaction_events"));

            transactional.commitTransaction(); // its markers reach the partitions right after
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Map<Integer, Instant> open = EventsTopic.openTransactionStarts(kafka, "open_transaction_events");
            while (!open.isEmpty() && System.nanoTime() < deadline) {
                assertEquals(Map.of(1, first), open, "until the commit is visible, where it began");
                Thread.sleep(50);
                open = EventsTopic.openTransactionStarts(kafka, "open_transaction_events");
            }
            assertEquals(Map.of(), open, "committed");
        }
    }

    @Test
    void recordsAppendedWhileItLooksAreNoOpenTransaction(LocalCluster cluster) throws Exception {
        KafkaClientSettings kafka = brokerStampedTopic(cluster, "busy_events");
        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicLong appended = new AtomicLong();
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 0), new ByteArraySerializer(), new ByteArraySerializer())) {
            Thread sender = new Thread(() -> {
                try {
                    for (int i = 0; sending.get(); i++) {
                        plain.send(new ProducerRecord<>("busy_events", i % 2, null, "{}".getBytes(StandardCharsets.UTF_8))).get();
                        appended.incrementAndGet();
                    }
                } catch (Exception e) {
                    sendFailure.set(e);
                }
            });
            sender.start();
            long appendedBefore;
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (appended.get() == 0 && sendFailure.get() == null && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                appendedBefore = appended.get();
                for (int look = 0; look < 30; look++) {
                    assertEquals(Map.of(), EventsTopic.openTransactionStarts(kafka, "busy_events"), "look " + look);
                }
            } finally {
                sending.set(false);
                sender.join();
            }
            assertNull(sendFailure.get(), "the records meant to be appended while it looks were sent");
            assertTrue(appended.get() > appendedBefore, "records were appended while it looked");
        }
    }

    /**
     * Retention may pass an open transaction's first offset between the listing and the read: the
     * oldest record left is then the earliest time, no later than any record after it.
     */
    @Test
    void anOffsetRetentionPassedReadsTheOldestRecordLeft(LocalCluster cluster) throws Exception {
        KafkaClientSettings kafka = brokerStampedTopic(cluster, "retention_events");
        TopicPartition p0 = new TopicPartition("retention_events", 0);
        List<Instant> appended = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 3; i++) {
                appended.add(Instant.ofEpochMilli(plain.send(new ProducerRecord<>("retention_events", 0, null,
                        "{}".getBytes(StandardCharsets.UTF_8))).get().timestamp()));
                Thread.sleep(5);
            }
        }
        assertEquals(Map.of(0, appended.get(1)), EventsTopic.appendTimes(kafka, Map.of(p0, 1L)));
        try (Admin admin = cluster.kafka().admin()) {
            admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(2))).all().get(30, TimeUnit.SECONDS);
        }
        assertEquals(Map.of(0, appended.get(2)), EventsTopic.appendTimes(kafka, Map.of(p0, 0L)), "offset 0 is gone: the oldest left");
    }

    /** Creates a topic of two partitions stamped by the broker, as the events topic is; returns the client settings to read it. */
    private static KafkaClientSettings brokerStampedTopic(LocalCluster cluster, String topic) {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(topic, 2, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"))));
        }
        return new KafkaClientSettings(cluster.bootstrapServers(), Map.of());
    }

    private static ProducerRecord<byte[], byte[]> record(int partition) {
        return new ProducerRecord<>("open_transaction_events", partition, null, "{}".getBytes(StandardCharsets.UTF_8));
    }

    /** Otherwise the first reject fails its task over and over, holding its partition with no word of why. */
    @Test
    void aDeadLetterTopicMustExistAndTakeTheLargestRecordTheProducerMaySend(LocalCluster cluster) {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic("small_dlq", 1, (short) 1)
                    .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "65536"))));
        }
        KafkaClientSettings kafka = new KafkaClientSettings(cluster.bootstrapServers(), Map.of());
        assertDoesNotThrow(() -> EventsTopic.requireDeadLetterTopic(kafka, SystemTopics.DEAD_LETTERS, 1024 * 1024),
                "the broker's default max.message.bytes takes the producer's default max.request.size");
        assertDoesNotThrow(() -> EventsTopic.requireDeadLetterTopic(kafka, "small_dlq", 65_536));
        ConfigException small = assertThrows(ConfigException.class, () -> EventsTopic.requireDeadLetterTopic(kafka, "small_dlq", 1024 * 1024));
        assertTrue(small.getMessage().startsWith("dead-letter topic small_dlq takes records of at most 65536 bytes (max.message.bytes)"),
                small.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> EventsTopic.requireDeadLetterTopic(kafka, "no_dlq", 1024 * 1024));
        assertTrue(missing.getMessage().contains("no_dlq") && missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void aMissingTopicIsNamed(LocalCluster cluster) {
        KafkaClientSettings kafka = new KafkaClientSettings(cluster.bootstrapServers(), Map.of());
        ConfigException e = assertThrows(ConfigException.class, () -> EventsTopic.requireBrokerTimestamps(kafka, "no_such_topic"));
        assertTrue(e.getMessage().contains("no_such_topic") && e.getMessage().contains("does not exist"), e.getMessage());
    }
}
