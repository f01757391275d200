package dev.lambda.speed.metrics;

import dev.lambda.speed.topology.InputLag;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * The events topic's consumer lag, read from the Kafka consumers' own {@code records-lag} metric
 * (per partition, as of the consumer's last fetch): for the Prometheus gauge, summed, and for the
 * flush pacing, per partition.
 */
public final class ConsumerLag implements InputLag {

    private static final String RECORDS_LAG = "records-lag";

    private final String topic;
    private volatile Supplier<Map<MetricName, ? extends Metric>> metrics = Map::of;

    public ConsumerLag(String topic) {
        this.topic = topic;
    }

    /** Reads from these metrics from now on (the streams application's, once it exists). */
    public void watch(Supplier<Map<MetricName, ? extends Metric>> metrics) {
        this.metrics = metrics;
    }

    /** Records on the topic not yet fetched, over this instance's partitions. */
    public long total() {
        return sum(null);
    }

    @Override
    public long recordsBehind(int partition) {
        return sum(Integer.toString(partition));
    }

    private long sum(String partition) {
        long lag = 0;
        for (var entry : metrics.get().entrySet()) {
            MetricName name = entry.getKey();
            if (name.name().equals(RECORDS_LAG) && topic.equals(name.tags().get("topic"))
                    && (partition == null || partition.equals(name.tags().get("partition")))
                    && entry.getValue().metricValue() instanceof Double d && !d.isNaN()) {
                lag += d.longValue();
            }
        }
        return lag;
    }
}
