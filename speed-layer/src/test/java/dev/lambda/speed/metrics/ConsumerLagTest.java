package dev.lambda.speed.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;

class ConsumerLagTest {

    private static final String THREAD_1 = "speed-1f3e-StreamThread-1";
    private static final String THREAD_2 = "speed-1f3e-StreamThread-2";
    private static final String REPLACED = "speed-1f3e-StreamThread-3"; // died; its consumer's metrics stay behind

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

    /** What a stream thread of this name is told (the pacing asks from the task's own thread). */
    private static long onThread(String name, ConsumerLag lag, int partition) throws InterruptedException {
        AtomicLong seen = new AtomicLong(-1);
        Thread thread = new Thread(() -> seen.set(lag.recordsBehind(partition)), name);
        thread.start();
        thread.join();
        return seen.get();
    }

    @Test
    void readsTheRecordsLagOfTheEventsTopicAsTheAskingThreadsConsumerSawItAndSumsTheLiveConsumers() throws Exception {
        metric("records-lag", THREAD_1 + "-consumer", "events", 0, 1_200);
        metric("records-lag", THREAD_2 + "-consumer", "events", 3, 34);
        metric("records-lag", REPLACED + "-consumer", "events", 0, 80_000); // partition 0 before its thread died
        metric("records-lag-max", THREAD_1 + "-consumer", "events", 0, 9_999); // not the current lag
        metric("records-lag", THREAD_1 + "-restore-consumer", "speed-changelog", 0, 500); // another topic
        ConsumerLag lag = new ConsumerLag("events");
        assertEquals(0, onThread(THREAD_1, lag, 0), "nothing known before the application exists");

        lag.watch(() -> metrics, () -> Set.of(THREAD_1 + "-consumer", THREAD_2 + "-consumer"));

        assertEquals(1_200, onThread(THREAD_1, lag, 0));
        assertEquals(34, onThread(THREAD_2, lag, 3));
        assertEquals(0, onThread(THREAD_2, lag, 0), "partition 0 is thread 1's: thread 2 has no records of it waiting");
        assertEquals(0, onThread(THREAD_1, lag, 2), "not this instance's");
        assertEquals(1_234, lag.total(), "the live consumers' lag only");
    }
}
