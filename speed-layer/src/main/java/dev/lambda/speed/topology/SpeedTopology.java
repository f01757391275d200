package dev.lambda.speed.topology;

import dev.lambda.common.view.ViewCatalog;
import dev.lambda.speed.metrics.SpeedMetrics;
import dev.lambda.speed.sink.SpeedRowSink;
import java.time.Duration;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;

/**
 * Builds the speed layer's topology (DESIGN §7) as a pure function: {@code events} → validate,
 * dedup, aggregate per (view version, level, bucket, dims, slot) → flush to the sink; rejects →
 * {@code events.dlq}. No repartition topic: aggregates are per source partition (DESIGN §6).
 */
public final class SpeedTopology {

    static final String SOURCE = "events-source";
    static final String PROCESSOR = "speed-aggregate";
    static final String DEAD_LETTER_SINK = "dead-letter-sink";
    static final String AGGREGATES_STORE = "speed-aggregates";
    static final String SEEN_IDS_STORE = "speed-seen-ids";
    static final String PARTITION_STATS_STORE = "speed-partition-stats";

    private SpeedTopology() {
    }

    /**
     * @param stopBy {@link System#nanoTime()} by which a stopping instance's tasks must have written
     *               what they have not flushed yet, as they close; {@code Long.MAX_VALUE} while it runs
     * @param lag    how far behind its input partitions this instance is (for the flush pacing)
     */
    public static Topology build(ViewCatalog catalog, SpeedSettings settings, SpeedRowSink sink, SpeedMetrics metrics,
                                 LongSupplier stopBy, InputLag lag) {
        return build(catalog, settings, sink, metrics, stopBy, lag, System::nanoTime);
    }

    /** @param ticker the clock, in nanoseconds, the cost of a flush is measured with (for its pacing) */
    static Topology build(ViewCatalog catalog, SpeedSettings settings, SpeedRowSink sink, SpeedMetrics metrics, LongSupplier stopBy,
                          InputLag lag, LongSupplier ticker) {
        BeforeCommit beforeCommit = new BeforeCommit();
        ProcessorSupplier<byte[], byte[], byte[], byte[]> supplier = new ProcessorSupplier<>() {
            @Override
            public Processor<byte[], byte[], byte[], byte[]> get() {
                return new SpeedProcessor(catalog, settings, sink, metrics, stopBy, beforeCommit, lag, ticker);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(aggregatesStore(beforeCommit), seenIdsStore(settings), partitionStatsStore());
            }
        };
        Topology topology = new Topology();
        topology.addSource(SOURCE, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), settings.eventsTopic());
        topology.addProcessor(PROCESSOR, supplier, SOURCE);
        topology.addSink(DEAD_LETTER_SINK, settings.deadLetterTopic(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), PROCESSOR);
        return topology;
    }

    /**
     * The base-level aggregates. Only open slots (and not yet flushed closed ones) live here, so it
     * stays small: in memory, changelogged like any store, restored after a crash. No cache: the
     * processor puts each changed aggregate once per commit, just before it.
     */
    static StoreBuilder<KeyValueStore<AggregateKey, SlotAggregate>> aggregatesStore(BeforeCommit beforeCommit) {
        KeyValueBytesStoreSupplier bytes = Stores.inMemoryKeyValueStore(AGGREGATES_STORE);
        return beforeCommit.wrap(Stores.keyValueStoreBuilder(bytes, StoreSerdes.keySerde(), StoreSerdes.valueSerde()));
    }

    /**
     * The partition's duplicates, dead letters by reason, closed-slot bound and write-time base: a
     * few keys, exactly once like the rest. The cache keeps the last value of a key that changes
     * often (duplicates) until the commit instead of logging every one.
     */
    private static StoreBuilder<?> partitionStatsStore() {
        return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(PARTITION_STATS_STORE), Serdes.String(), Serdes.Long())
                .withCachingEnabled();
    }

    static StoreBuilder<?> seenIdsStore(SpeedSettings settings) {
        Duration window = settings.dedupWindow();
        WindowBytesStoreSupplier bytes = settings.persistentStores()
                ? Stores.persistentWindowStore(SEEN_IDS_STORE, window, window, false)
                : Stores.inMemoryWindowStore(SEEN_IDS_STORE, window, window, false);
        return Stores.windowStoreBuilder(bytes, Serdes.String(), Serdes.Long());
    }
}
