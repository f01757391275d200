package dev.lambda.speed.metrics;

import dev.lambda.speed.topology.InputLag;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * The events topic's consumer lag, read from the Kafka consumers' own {@code records-lag} metric
 * (per partition, as of each consumer's last fetch): for the Prometheus gauge, summed over the
 * instance's live consumers, and for the flush pacing, per partition as the asking stream thread's
 * own consumer saw it.
 */
public final class ConsumerLag implements InputLag {

    private static final String RECORDS_LAG = "records-lag";
    private static final String CLIENT_ID = "client-id";

    private final String topic;
    private volatile Supplier<Map<MetricName, ? extends Metric>> metrics = Map::of;
    private volatile Supplier<Set<String>> liveConsumers = Set::of;

    public ConsumerLag(String topic) {
        this.topic = topic;
    }

    /**
     * Reads from these metrics from now on (the streams application's, once it exists). A consumer
     * of a thread that died keeps its last values there, so the sum counts only the live ones.
     */
    public void watch(Supplier<Map<MetricName, ? extends Metric>> metrics, Supplier<Set<String>> liveConsumers) {
        this.metrics = metrics;
        this.liveConsumers = liveConsumers;
    }

    /** Records on the topic not yet returned by this instance's live consumers, over their partitions. */
    public long total() {
        Set<String> live = liveConsumers.get();
        return sum(null, live::contains);
    }

    /**
     * As the consumer of the calling stream thread, the one that owns the partition's task, saw it
     * (Kafka Streams names a thread's consumer after the thread): another thread's value may be
     * older than the last rebalance.
     */
    @Override
    public long recordsBehind(int partition) {
        String ownConsumer = Thread.currentThread().getName() + "-consumer";
        return sum(Integer.toString(partition), ownConsumer::equals);
    }

    private long sum(String partition, Predicate<String> consumer) {
        long lag = 0;
        for (var entry : metrics.get().entrySet()) {
            MetricName name = entry.getKey();
            if (name.name().equals(RECORDS_LAG) && topic.equals(name.tags().get("topic"))
                    && (partition == null || partition.equals(name.tags().get("partition")))
                    && consumer.test(name.tags().get(CLIENT_ID))
                    && entry.getValue().metricValue() instanceof Double d && !d.isNaN()) {
                lag += d.longValue();
            }
        }
        return lag;
    }
}
