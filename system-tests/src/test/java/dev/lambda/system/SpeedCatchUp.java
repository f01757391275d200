package dev.lambda.system;

import static org.junit.jupiter.api.Assertions.fail;

import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.speed.SpeedLayer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * Waiting until the speed layer has caught up: its flushed offsets (reported after its progress is
 * recorded) reach the topic's log end on every partition, and the serving layer's progress polls
 * have had time to see it (two poll intervals).
 */
final class SpeedCatchUp {

    /** The serving layer's --speed-poll default: answers may lag recorded speed progress by about two of these. */
    static final Duration SERVING_SPEED_POLL = Duration.ofMillis(200);

    private SpeedCatchUp() {
    }

    /** Until every record now in {@code topic} has its aggregates in Cassandra, failing after {@code timeout}. */
    static void await(LocalCluster cluster, String topic, SpeedLayer speed, Duration timeout) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < LocalClusterExtension.TEST_EVENT_PARTITIONS; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<Integer, Long> ends = new HashMap<>();
        try (Admin admin = cluster.kafka().admin()) {
            admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> ends.put(tp.partition(), info.offset()));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!ends.entrySet().stream().allMatch(e -> speed.metrics().flushedOffset(e.getKey()) >= e.getValue())) {
            if (System.nanoTime() > deadline) {
                fail("the speed layer did not catch up within " + timeout.toSeconds() + " s: log ends " + ends + ", flushed through "
                        + ends.keySet().stream().map(p -> p + "=" + speed.metrics().flushedOffset(p)).toList());
            }
            Thread.sleep(100);
        }
        Thread.sleep(2 * SERVING_SPEED_POLL.toMillis() + 200); // a poll that started just before the progress write misses it
    }
}
