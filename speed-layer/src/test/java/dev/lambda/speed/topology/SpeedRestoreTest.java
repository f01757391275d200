package dev.lambda.speed.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.speed.metrics.SpeedMetrics;
import dev.lambda.speed.testing.CollectingSink;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a task does with the aggregates its store already holds when it starts (after a crash, a
 * rebalance or an upgrade): every value is written once, coarser levels come from the base level
 * or, in a store left by the release that stored every level, from what that release stored; and
 * slots that were already closed leave the store at the first flush.
 */
class SpeedRestoreTest {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final ViewDefinition SALES = VIEWS.find("sales").orElseThrow();
    private static final Duration WINDOW = Duration.ofHours(24);
    private static final long SLOT_10 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
    private static final long SLOT_11 = Instant.parse("2026-11-21T11:00:00Z").toEpochMilli();
    /** When the newest stored aggregate last changed: past the 10:00 slot's end and its grace. */
    private static final long INGEST_11 = Instant.parse("2026-11-21T11:05:00Z").toEpochMilli();

    private final CollectingSink sink = new CollectingSink();
    private final MockProcessorContext<byte[], byte[]> context = new MockProcessorContext<>();
    private KeyValueStore<AggregateKey, SlotAggregate> store;

    @BeforeEach
    void stores() {
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(SpeedTopology.AGGREGATES_STORE), StoreSerdes.keySerde(),
                StoreSerdes.valueSerde()).withLoggingDisabled().build();
        add(store);
        add(Stores.windowStoreBuilder(Stores.inMemoryWindowStore(SpeedTopology.SEEN_IDS_STORE, WINDOW, WINDOW, false), Serdes.String(),
                Serdes.Long()).withLoggingDisabled().build());
        add(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(SpeedTopology.PARTITION_STATS_STORE), Serdes.String(), Serdes.Long())
                .withLoggingDisabled().build());
    }

    private void add(StateStore s) {
        s.init(context.getStateStoreContext(), s);
        context.addStateStore(s);
    }

    private static AggregateKey key(Granularity level, String bucket, String product, long slot) {
        return new AggregateKey("sales", SALES.version(), level, Instant.parse(bucket).toEpochMilli(), List.of(product, "NP"), slot);
    }

    /** The aggregate of {@code orders} purchases of 1.00 each. */
    private static SlotAggregate orders(int orders, long ingest) {
        Aggregate a = Aggregate.zero(SALES);
        for (int i = 0; i < orders; i++) {
            a = a.add(SALES, new Event("e" + i, "purchase", Instant.EPOCH, Map.of("amount", "1.00", "user_id", "u" + i)));
        }
        return new SlotAggregate(a, ingest);
    }

    /** Starts a processor on the stores as they are, as a task does after a restart. */
    private SpeedProcessor start() {
        SpeedSettings settings = new SpeedSettings("events", "events.dlq", new IngestSlots(Duration.ofHours(1)), Duration.ofSeconds(30), WINDOW,
                Duration.ofMinutes(5), Duration.ofMillis(250), false);
        SpeedProcessor processor = new SpeedProcessor(VIEWS, settings, sink, new SpeedMetrics(new PrometheusRegistry()), () -> Long.MAX_VALUE);
        processor.init(context);
        return processor;
    }

    /** Runs the latest started processor's flush. */
    private void flush() {
        var punctuators = context.scheduledPunctuators();
        punctuators.get(punctuators.size() - 1).getPunctuator().punctuate(System.currentTimeMillis());
    }

    private void startAndFlush() {
        start();
        flush();
    }

    private long offset;

    private void process(SpeedProcessor processor, String id, String product, String ingest) {
        String json = "{\"id\":\"" + id + "\",\"type\":\"purchase\",\"ts\":\"2026-11-21T10:59:00Z\",\"attrs\":{\"product\":\"" + product
                + "\",\"country\":\"NP\",\"amount\":\"1.00\",\"user_id\":\"" + id + "\"}}";
        context.setRecordMetadata("events", 0, offset++);
        processor.process(new Record<>(null, json.getBytes(StandardCharsets.UTF_8), Instant.parse(ingest).toEpochMilli()));
    }

    @Test
    void aRestartedTaskStillRefusesEventsOfSlotsClosedBeforeTheRestart() {
        SpeedProcessor first = start();
        process(first, "a", "p1", "2026-11-21T10:59:50Z");
        process(first, "b", "p1", "2026-11-21T10:59:55Z");
        process(first, "c", "p2", "2026-11-21T11:00:31Z");
        flush(); // the 10:00 slot is written and closed
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));

        SpeedProcessor second = start(); // after a crash, a rebalance or a redeploy
        process(second, "d", "p1", "2026-11-21T10:59:58Z"); // the broker clock went back 33 s, before any flush of the new task
        flush();
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10), "not rewritten from the one late event");
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p2", SLOT_11), "the restored open slot is written");
    }

    private Object written(Granularity level, String bucket, String product, long slot) {
        var w = sink.rows().get(new CollectingSink.RowKey("sales", level.id(), Instant.parse(bucket).toEpochMilli(), List.of(product, "NP"),
                slot, 0));
        return w == null ? null : w.row().aggregate().get(0).read();
    }

    private List<AggregateKey> stored() {
        List<AggregateKey> keys = new ArrayList<>();
        try (var all = store.all()) {
            all.forEachRemaining(kv -> keys.add(kv.key));
        }
        return keys;
    }

    @Test
    void coarserLevelsAreRebuiltFromTheBaseLevelAndClosedSlotsLeave() {
        store.put(key(Granularity.MINUTE, "2026-11-21T09:59:00Z", "p1", SLOT_10), orders(2, SLOT_10)); // a slot closed before the stop
        store.put(key(Granularity.MINUTE, "2026-11-21T11:05:00Z", "p1", SLOT_11), orders(2, INGEST_11));
        store.put(key(Granularity.MINUTE, "2026-11-21T11:06:00Z", "p1", SLOT_11), orders(3, INGEST_11));

        startAndFlush();

        assertEquals(5L, written(Granularity.HOUR, "2026-11-21T11:00:00Z", "p1", SLOT_11));
        assertEquals(5L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_11));
        assertEquals(2L, written(Granularity.HOUR, "2026-11-21T09:00:00Z", "p1", SLOT_10), "the closed slot is written in full once more");
        assertTrue(stored().stream().allMatch(k -> k.slot() == SLOT_11 && k.level() == Granularity.MINUTE),
                "then only the open slot's base level stays: " + stored());
        assertEquals(2, stored().size());
    }

    @Test
    void aStoreThatHeldEveryLevelIsTakenAsItIsNotRebuiltFromLeftovers() {
        // the previous release dropped a closed slot's keys only if they changed in the closing flush:
        // here the 10:00 slot kept one minute (flushed earlier) but lost its hour and day, whose rows
        // in Cassandra hold more than that minute
        store.put(key(Granularity.MINUTE, "2026-11-21T10:10:00Z", "p1", SLOT_10), orders(1, SLOT_10));
        store.put(key(Granularity.MINUTE, "2026-11-21T11:05:00Z", "p1", SLOT_11), orders(2, INGEST_11));
        store.put(key(Granularity.HOUR, "2026-11-21T11:00:00Z", "p1", SLOT_11), orders(2, INGEST_11));
        store.put(key(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_11), orders(2, INGEST_11));

        startAndFlush();

        assertEquals(null, written(Granularity.HOUR, "2026-11-21T10:00:00Z", "p1", SLOT_10),
                "no coarser row of the closed slot is rebuilt from what was left of it");
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:10:00Z", "p1", SLOT_10));
        assertEquals(2L, written(Granularity.HOUR, "2026-11-21T11:00:00Z", "p1", SLOT_11), "the stored coarser value, once");
        assertEquals(2L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_11));
        assertEquals(List.of(key(Granularity.MINUTE, "2026-11-21T11:05:00Z", "p1", SLOT_11)), stored(),
                "from then on the store holds the open slot's base level only");
        assertFalse(sink.rows().isEmpty());
    }
}
