package dev.lambda.launcher;

import dev.lambda.common.config.KafkaClientSettings;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends {@link EventGenerator} records to Kafka at a steady rate until a count is reached or
 * {@link #stop()} is called, reporting totals every 10 s.
 */
public final class GeneratorRun implements Runnable {

    private final KafkaClientSettings kafka;
    private final String topic;
    private final EventGenerator generator;
    private final int ratePerSecond;
    private final long count;
    private final Consumer<String> report;
    private final Map<EventGenerator.Kind, Long> sent = new EnumMap<>(EventGenerator.Kind.class);
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private volatile boolean stopped;

    /**
     * @param count  records to send, 0 for no limit
     * @param report receives a progress line every 10 s and a last one at the end
     */
    public GeneratorRun(KafkaClientSettings kafka, String topic, EventGenerator generator, int ratePerSecond, long count,
                        Consumer<String> report) {
        if (ratePerSecond < 1) {
            throw new IllegalArgumentException("rate must be at least 1 event/s, got " + ratePerSecond);
        }
        this.kafka = kafka;
        this.topic = topic;
        this.generator = generator;
        this.ratePerSecond = ratePerSecond;
        this.count = count;
        this.report = report;
    }

    public void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        Map<String, Object> config = new HashMap<>(kafka.clientProperties());
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (Producer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            long started = System.nanoTime();
            long nextReport = started + TimeUnit.SECONDS.toNanos(10);
            long total = 0;
            while (!stopped && (count == 0 || total < count) && failure.get() == null) {
                // pace against the start so the long-run rate holds even when a send blocks for a while
                long due = started + total * 1_000_000_000L / ratePerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(Math.min(wait, 100_000_000L));
                    continue;
                }
                EventGenerator.GeneratedRecord record = generator.next(Instant.now());
                producer.send(new ProducerRecord<>(topic, record.key(), record.value()), (metadata, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
                sent.merge(record.kind(), 1L, Long::sum);
                total++;
                if (System.nanoTime() >= nextReport) {
                    report.accept(summary(total));
                    nextReport += TimeUnit.SECONDS.toNanos(10);
                }
            }
            producer.flush();
            report.accept(summary(total));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("sending to Kafka topic " + topic + " failed: " + failure.get().getMessage(), failure.get());
        }
    }

    private String summary(long total) {
        return "generated " + total + " records (" + sent.getOrDefault(EventGenerator.Kind.DUPLICATE, 0L) + " re-sent duplicates, "
                + sent.getOrDefault(EventGenerator.Kind.LATE, 0L) + " late, "
                + sent.getOrDefault(EventGenerator.Kind.MALFORMED, 0L) + " malformed)";
    }
}
