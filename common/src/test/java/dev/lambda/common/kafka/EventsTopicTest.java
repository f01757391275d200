package dev.lambda.common.kafka;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lambda.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class EventsTopicTest {

    @Test
    void onlyBrokerTimestampsAreIngestTimes() {
        assertDoesNotThrow(() -> EventsTopic.requireLogAppendTime("events", "LogAppendTime"));
        assertThrows(ConfigException.class, () -> EventsTopic.requireLogAppendTime("events", "CreateTime"));
        assertThrows(ConfigException.class, () -> EventsTopic.requireLogAppendTime("events", null));
    }
}
