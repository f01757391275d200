package dev.lambda.speed.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;

class ConsumerLagTest {

    private final Map<MetricName, Metric> metrics = new LinkedHashMap<>();

    private void metric(String name, String client, String topic, int partition, double value) {
        MetricName id = new MetricName(name, "consumer-fetch-manager-metrics", "",
                Map.of("client-id", client, "topic", topic, "partition", Integer.toString(partition)));
        metrics.put(id, new Metric() {
            @Override
            public MetricName metricName() {
                return id;
            }

            @Override
            public Object metricValue() {
                return value;
            }
        });
    }

    @Test
    void readsTheRecordsLagOfTheEventsTopicPerPartitionAndInAll() {
        metric("records-lag", "thread-1-consumer", "events", 0, 1_200);
        metric("records-lag", "thread-2-consumer", "events", 3, 34);
        metric("records-lag-max", "thread-1-consumer", "events", 0, 9_999); // not the current lag
        metric("records-lag", "thread-1-restore-consumer", "speed-changelog", 0, 500); // another topic
        metric("records-lag", "thread-2-consumer", "events", 1, Double.NaN); // assigned, not fetched yet
        ConsumerLag lag = new ConsumerLag("events");
        assertEquals(0, lag.recordsBehind(0), "nothing known before the application exists");

        lag.watch(() -> metrics);

        assertEquals(1_200, lag.recordsBehind(0));
        assertEquals(34, lag.recordsBehind(3));
        assertEquals(0, lag.recordsBehind(1), "not fetched yet");
        assertEquals(0, lag.recordsBehind(2), "not this instance's");
        assertEquals(1_234, lag.total());
    }
}
