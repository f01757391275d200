package dev.lambda.speed.topology;

import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.event.ParseResult;
import dev.lambda.speed.config.SpeedConfig;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * The rate Kafka Streams reaches on this machine with the speed layer's settings (exactly-once,
 * threads, commit interval, state directory) when a processor only parses each record, or parses
 * and keeps ids in a dedup window store as the layer does: the ceiling the layer's own work sits
 * under. A benchmark aid; asserts nothing.
 */
public final class StreamsCeiling {

    private StreamsCeiling() {
    }

    /**
     * Events per second from start until every one of {@code events} records was processed (a record
     * processed again after an aborted transaction would count twice; a run without failures has none).
     */
    public static double rate(SpeedConfig config, String topic, int events, boolean dedup) throws InterruptedException {
        AtomicLong processed = new AtomicLong();
        Duration window = config.topology().dedupWindow();
        Topology topology = new Topology();
        topology.addSource("source", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), topic);
        topology.addProcessor("parse", () -> new Parse(config, processed, dedup, window), "source");
        if (dedup) {
            topology.addStateStore(SpeedTopology.seenIdsStore(config.topology()), "parse"); // the layer's own
        }
        Properties props = config.streamsProperties();
        // an application of its own (own offsets), so it reads the topic from the start
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId() + "-ceiling-" + (dedup ? "dedup" : "parse"));
        long start = System.nanoTime();
        try (KafkaStreams streams = new KafkaStreams(topology, props)) {
            streams.start();
            long giveUpAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (processed.get() < events) {
                if (streams.state().hasCompletedShutdown() || System.nanoTime() - giveUpAt > 0) {
                    throw new IllegalStateException("Kafka Streams " + streams.state() + " after " + processed.get() + " of " + events
                            + " records");
                }
                Thread.sleep(20);
            }
            return events / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static final class Parse implements Processor<byte[], byte[], Void, Void> {
        private final EnvelopeParser parser;
        private final AtomicLong processed;
        private final boolean dedup;
        private final long windowMillis;
        private WindowStore<String, Long> seen;

        Parse(SpeedConfig config, AtomicLong processed, boolean dedup, Duration window) {
            this.parser = new EnvelopeParser(config.topology().futureTolerance());
            this.processed = processed;
            this.dedup = dedup;
            this.windowMillis = window.toMillis();
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            if (dedup) {
                seen = context.getStateStore(SpeedTopology.SEEN_IDS_STORE);
            }
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            if (parser.parse(record.value(), record.timestamp()) instanceof ParseResult.Valid valid && dedup) {
                String id = valid.event().id();
                try (WindowStoreIterator<Long> it = seen.fetch(id, record.timestamp() - windowMillis, record.timestamp())) {
                    if (!it.hasNext()) {
                        seen.put(id, record.timestamp(), record.timestamp());
                    }
                }
            }
            processed.incrementAndGet();
        }
    }
}
