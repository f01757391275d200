package dev.lambda.common.kafka;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.KafkaClientSettings;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
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
    void aMissingTopicIsNamed(LocalCluster cluster) {
        KafkaClientSettings kafka = new KafkaClientSettings(cluster.bootstrapServers(), Map.of());
        ConfigException e = assertThrows(ConfigException.class, () -> EventsTopic.requireBrokerTimestamps(kafka, "no_such_topic"));
        assertTrue(e.getMessage().contains("no_such_topic") && e.getMessage().contains("does not exist"), e.getMessage());
    }
}
