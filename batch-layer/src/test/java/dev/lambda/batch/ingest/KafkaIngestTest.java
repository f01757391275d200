package dev.lambda.batch.ingest;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkThrowable;
import org.junit.jupiter.api.Test;

/** What the operator is told when Spark's Kafka source stops on a data-loss condition. */
class KafkaIngestTest {

    /** A failure of Spark's Kafka source, as it reaches the ingest: wrapped, with its condition. */
    private static final class Condition extends RuntimeException implements SparkThrowable {
        private final String condition;

        Condition(String condition) {
            super(condition);
            this.condition = condition;
        }

        @Override
        public String getCondition() {
            return condition;
        }
    }

    private static String told(String condition) {
        return KafkaIngest.lossMessage("events", new IllegalStateException("query failed", new Condition(condition)));
    }

    @Test
    void recordsDeletedBeforeTheyWereArchivedAreAGapToImportAndAccept() {
        for (String gap : new String[] {"KAFKA_DATA_LOSS.COULD_NOT_READ_OFFSET_RANGE", "KAFKA_DATA_LOSS.START_OFFSET_RESET",
                // partitions added to the topic, one trimmed by retention before any ingest read it
                "KAFKA_DATA_LOSS.ADDED_PARTITION_DOES_NOT_START_FROM_OFFSET_ZERO"}) {
            String message = told(gap);
            assertTrue(message.startsWith("Kafka topic events no longer holds records that were never archived (" + gap), message);
            assertTrue(message.contains("run ingest once with --accept-gap"), message);
        }
    }

    @Test
    void offsetsThatWentBackAreAnotherTopicNotAGap() {
        String message = told("KAFKA_DATA_LOSS.PARTITION_OFFSET_CHANGED");
        assertTrue(message.startsWith("Kafka topic events does not match the ingest checkpoint"), message);
        assertTrue(message.contains("--accept-gap would skip records Kafka still has"), message);
        assertNull(KafkaIngest.lossMessage("events", new IllegalStateException("no route to host")));
    }
}
