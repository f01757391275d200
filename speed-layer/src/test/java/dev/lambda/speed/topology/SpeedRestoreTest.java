package dev.lambda.speed.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.speed.metrics.SpeedMetrics;
import dev.lambda.speed.sink.RowsNotWrittenException;
import dev.lambda.speed.sink.SpeedRowSink;
import dev.lambda.speed.testing.CollectingSink;
import dev.lambda.speed.testing.ViewVersions;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
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
    /** The wall clock at the start of the tests that set it. */
    private static final long T0 = Instant.parse("2026-11-21T11:00:00Z").toEpochMilli();

    private final CollectingSink sink = new CollectingSink();
    /** Set: the next write lands in the sink but reports a failure, as a write that timed out after Cassandra applied it. */
    private boolean nextWriteLandsButFails;
    private final SpeedRowSink landing = new SpeedRowSink() {
        @Override
        public long writeAll(List<Write> rows, long writeTime) throws RowsNotWrittenException {
            long took = sink.writeAll(rows, writeTime);
            if (nextWriteLandsButFails) {
                nextWriteLandsButFails = false;
                throw new RowsNotWrittenException("timed out", rows);
            }
            return took;
        }

        @Override
        public boolean writeProgress(Progress progress, long writeTime) {
            return sink.writeProgress(progress, writeTime);
        }

        @Override
        public boolean recordViewVersions(int partition, Map<String, Instant> versions) {
            return sink.recordViewVersions(partition, versions);
        }
    };
    /** Each task's commit hooks: every task here is another process's (they share a task id). */
    private final Map<MockProcessorContext<byte[], byte[]>, BeforeCommit> commitHooks = new IdentityHashMap<>();
    private final MockProcessorContext<byte[], byte[]> context = new MockProcessorContext<>();
    private KeyValueStore<AggregateKey, SlotAggregate> store;

    @BeforeEach
    void stores() {
        context.setCurrentSystemTimeMs(System.currentTimeMillis());
        store = addStores(context);
    }

    /** Gives {@code task} the three stores, empty; returns its aggregates store. */
    private KeyValueStore<AggregateKey, SlotAggregate> addStores(MockProcessorContext<byte[], byte[]> task) {
        BeforeCommit hooks = new BeforeCommit();
        commitHooks.put(task, hooks);
        KeyValueStore<AggregateKey, SlotAggregate> aggregates = SpeedTopology.aggregatesStore(hooks).withLoggingDisabled().build();
        add(task, aggregates);
        add(task, Stores.windowStoreBuilder(Stores.inMemoryWindowStore(SpeedTopology.SEEN_IDS_STORE, WINDOW, WINDOW, false),
                Serdes.String(), Serdes.Long()).withLoggingDisabled().build());
        add(task, Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(SpeedTopology.PARTITION_STATS_STORE), Serdes.String(),
                Serdes.Long()).withLoggingDisabled().build());
        return aggregates;
    }

    private static void add(MockProcessorContext<byte[], byte[]> task, StateStore s) {
        s.init(task.getStateStoreContext(), s);
        task.addStateStore(s);
    }

    /** {@link #context} commits; returns a task whose stores hold what its stores hold then. */
    private MockProcessorContext<byte[], byte[]> restoredCopy() {
        return restoredCopy(context);
    }

    /**
     * {@code from} commits, and a new owner of the partition restores its stores from the
     * changelog as of that commit: returns the new owner's task.
     */
    private MockProcessorContext<byte[], byte[]> restoredCopy(MockProcessorContext<byte[], byte[]> from) {
        commit(from);
        MockProcessorContext<byte[], byte[]> copy = new MockProcessorContext<>();
        copy.setCurrentSystemTimeMs(System.currentTimeMillis());
        KeyValueStore<AggregateKey, SlotAggregate> aggregates = addStores(copy);
        KeyValueStore<AggregateKey, SlotAggregate> stored = from.getStateStore(SpeedTopology.AGGREGATES_STORE);
        try (var all = stored.all()) {
            all.forEachRemaining(kv -> aggregates.put(kv.key, kv.value));
        }
        WindowStore<String, Long> seen = from.getStateStore(SpeedTopology.SEEN_IDS_STORE);
        WindowStore<String, Long> seenCopy = copy.getStateStore(SpeedTopology.SEEN_IDS_STORE);
        try (var all = seen.all()) {
            all.forEachRemaining(kv -> seenCopy.put(kv.key.key(), kv.value, kv.key.window().start()));
        }
        KeyValueStore<String, Long> stats = from.getStateStore(SpeedTopology.PARTITION_STATS_STORE);
        KeyValueStore<String, Long> statsCopy = copy.getStateStore(SpeedTopology.PARTITION_STATS_STORE);
        try (var all = stats.all()) {
            all.forEachRemaining(kv -> statsCopy.put(kv.key, kv.value));
        }
        return copy;
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
        return new SlotAggregate(a, ingest, -1); // as a store of the release before positions has it
    }

    /** Starts a processor on the stores as they are, as a task does after a restart. */
    private SpeedProcessor start() {
        return start(context);
    }

    private SpeedProcessor start(MockProcessorContext<byte[], byte[]> task) {
        return start(task, VIEWS);
    }

    /** Starts a processor with {@code views} as its views file. */
    private SpeedProcessor start(MockProcessorContext<byte[], byte[]> task, ViewCatalog views) {
        return start(task, views, Duration.ofHours(1));
    }

    /** Starts a processor with {@code views} as its views file and slots {@code slotWidth} wide. */
    private SpeedProcessor start(MockProcessorContext<byte[], byte[]> task, ViewCatalog views, Duration slotWidth) {
        SpeedSettings settings = new SpeedSettings("events", "events.dlq", new IngestSlots(slotWidth), Duration.ofSeconds(30), WINDOW,
                Duration.ofMinutes(5), Duration.ofMillis(250), false, 1024 * 1024);
        // nothing waits in Kafka and flushes cost no time on its clock: the pacing never holds one back
        SpeedProcessor processor = new SpeedProcessor(views, settings, landing, new SpeedMetrics(new PrometheusRegistry()), () -> Long.MAX_VALUE,
                commitHooks.get(task), InputLag.NONE, () -> 0L);
        processor.init(task);
        return processor;
    }

    /** What Kafka Streams does to the aggregates store just before it commits the task. */
    private static void commit(MockProcessorContext<byte[], byte[]> task) {
        ((BeforeCommit.HookedStore<?, ?>) task.getStateStore(SpeedTopology.AGGREGATES_STORE)).flushCache();
    }

    /** Runs the latest started processor's flush. */
    private void flush() {
        flush(context, System.currentTimeMillis());
    }

    /** Runs the flush of the latest processor started on {@code task}, with the wall clock at {@code now}. */
    private static void flush(MockProcessorContext<byte[], byte[]> task, long now) {
        task.setCurrentSystemTimeMs(now);
        var punctuators = task.scheduledPunctuators();
        punctuators.get(punctuators.size() - 1).getPunctuator().punctuate(now);
    }

    private void startAndFlush() {
        start();
        flush();
    }

    private long offset;

    private void process(SpeedProcessor processor, String id, String product, String ingest) {
        process(context, offset++, processor, id, product, ingest);
    }

    /** Processes the record at {@code offset} of the input partition: a purchase of 1.00 at 10:59. */
    private static void process(MockProcessorContext<byte[], byte[]> task, long offset, SpeedProcessor processor, String id,
                                String product, String ingest) {
        String json = "{\"id\":\"" + id + "\",\"type\":\"purchase\",\"ts\":\"2026-11-21T10:59:00Z\",\"attrs\":{\"product\":\"" + product
                + "\",\"country\":\"NP\",\"amount\":\"1.00\",\"user_id\":\"" + id + "\"}}";
        task.setRecordMetadata("events", 0, offset);
        processor.process(new Record<>(null, json.getBytes(StandardCharsets.UTF_8), Instant.parse(ingest).toEpochMilli()));
    }

    /**
     * The old owner of a partition goes on after the new owner took over (it was fenced, or cut off
     * from Kafka but not from Cassandra) and flushes last: its rows, of an older position, must not
     * replace the new owner's.
     */
    @Test
    void aProcessThatLostItsPartitionCannotReplaceTheNewOwnersRows() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor old = start();
        process(context, 0, old, "a", "p1", "2026-11-21T10:59:50Z");
        process(context, 1, old, "b", "p1", "2026-11-21T10:59:51Z");
        flush(context, T0 + 250); // and the transaction commits
        MockProcessorContext<byte[], byte[]> newOwner = restoredCopy();
        process(context, 2, old, "c", "p1", "2026-11-21T10:59:52Z"); // not knowing it lost the partition

        newOwner.setCurrentSystemTimeMs(T0 + 60_000);
        SpeedProcessor next = start(newOwner);
        process(newOwner, 2, next, "c", "p1", "2026-11-21T10:59:52Z");
        process(newOwner, 3, next, "d", "p1", "2026-11-21T10:59:53Z");
        flush(newOwner, T0 + 60_250);
        assertEquals(4L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));

        flush(context, T0 + 120_000); // the old owner's rows arrive last, later by the wall clock too
        assertEquals(4L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        assertEquals(4L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_10));
    }

    /** As above, when the old owner never committed: the new owner starts from the same first record, later. */
    @Test
    void aProcessThatLostItsPartitionBeforeItsFirstCommitCannotReplaceTheNewOwnersRows() {
        MockProcessorContext<byte[], byte[]> newOwner = restoredCopy(); // nothing committed
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor old = start();
        process(context, 0, old, "a", "p1", "2026-11-21T10:59:50Z");
        process(context, 1, old, "b", "p1", "2026-11-21T10:59:51Z");

        newOwner.setCurrentSystemTimeMs(T0 + 60_000);
        SpeedProcessor next = start(newOwner);
        process(newOwner, 0, next, "a", "p1", "2026-11-21T10:59:50Z");
        process(newOwner, 1, next, "b", "p1", "2026-11-21T10:59:51Z");
        process(newOwner, 2, next, "c", "p1", "2026-11-21T10:59:52Z");
        flush(newOwner, T0 + 60_250);

        flush(context, T0 + 120_000); // the old owner's first flush, after the new owner's
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
    }

    /**
     * What a partition reports of each view version, for the batch, which publishes a version only
     * at a cutoff after it: the start for the versions the partition's first offset met; for a
     * version a restart brings, the bound the store keeps on the ingest of the records it reflects,
     * reported at the task's first flush, a record processed or not; kept across restarts; and anew
     * for a version that comes back after another replaced it.
     */
    @Test
    void eachViewVersionIsReportedWithATimeNoRecordLeftOutOfItsRowsWasIngestedAfter() throws Exception {
        ViewCatalog changed = salesChanged();
        String oldSales = SALES.versionKey();
        String newSales = changed.find("sales").orElseThrow().versionKey();
        assertFalse(oldSales.equals(newSales));

        firstOwnerFlushesOneRecord();
        assertEquals(ViewVersions.since(VIEWS, Map.of()), sink.viewVersions(0));

        MockProcessorContext<byte[], byte[]> withChange = restoredCopy();
        SpeedProcessor second = start(withChange, changed);
        flush(withChange, T0 + 60_000);
        Map<String, Instant> sinceChange = ViewVersions.since(changed, Map.of(newSales, Instant.parse("2026-11-21T10:59:51Z")));
        assertEquals(sinceChange, sink.viewVersions(0), "reported before any record, a second past the newest ingest stored");
        process(withChange, 1, second, "b", "p1", "2026-11-21T10:59:55Z");
        flush(withChange, T0 + 60_250);
        assertEquals(sinceChange, sink.viewVersions(0));

        MockProcessorContext<byte[], byte[]> sameFile = restoredCopy(withChange);
        SpeedProcessor third = start(sameFile, changed);
        process(sameFile, 2, third, "c", "p1", "2026-11-21T11:00:10Z");
        sink.forgetViewVersions();
        flush(sameFile, T0 + 120_000);
        assertEquals(sinceChange, sink.viewVersions(0), "a restart with the same file keeps the times");

        MockProcessorContext<byte[], byte[]> rolledBack = restoredCopy(sameFile);
        start(rolledBack, VIEWS);
        flush(rolledBack, T0 + 180_000);
        assertEquals(ViewVersions.since(VIEWS, Map.of(oldSales, Instant.parse("2026-11-21T11:00:11Z"))), sink.viewVersions(0),
                "the old version missed the records processed with the new one: it starts again");
    }

    /** The partition's first owner processes a purchase ingested at 10:59:50 and flushes it. */
    private void firstOwnerFlushesOneRecord() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 0, first, "a", "p1", "2026-11-21T10:59:50Z");
        flush(context, T0 + 250);
    }

    /** The views file with sales given a third dimension: a new version of it. */
    private static ViewCatalog salesChanged() throws IOException {
        return new ViewCatalogLoader().parse(Files.readString(Path.of("..", "config", "views.yml"))
                .replace("dimensions: [product, country]", "dimensions: [product, country, currency]"));
    }

    /**
     * A version that comes back before any record was processed without it still starts again: the
     * flush after the change dropped its aggregates of open slots, whose rows the next records
     * rewrite from what comes after.
     */
    @Test
    void aVersionRolledBackWithNoRecordBetweenStartsAgain() throws Exception {
        firstOwnerFlushesOneRecord();
        MockProcessorContext<byte[], byte[]> changed = restoredCopy();
        start(changed, salesChanged());
        flush(changed, T0 + 60_000);
        MockProcessorContext<byte[], byte[]> back = restoredCopy(changed);
        start(back, VIEWS);
        flush(back, T0 + 120_000);
        assertEquals(ViewVersions.since(VIEWS, Map.of(SALES.versionKey(), Instant.parse("2026-11-21T10:59:51Z"))), sink.viewVersions(0));
    }

    /**
     * A store of a release before versions were kept tells no time: every version starts at the
     * task's first record, or at the newest ingest the restored aggregates hold should the
     * broker's clock have stepped back.
     */
    @Test
    void aStoreOfAnEarlierReleaseStartsItsVersionsAtTheFirstRecordOrTheNewestRestoredIngest() throws Exception {
        firstOwnerFlushesOneRecord();
        MockProcessorContext<byte[], byte[]> upgraded = restoredCopy();
        KeyValueStore<String, Long> stats = upgraded.getStateStore(SpeedTopology.PARTITION_STATS_STORE);
        List<String> added = new ArrayList<>();
        try (var all = stats.all()) {
            all.forEachRemaining(kv -> added.add(kv.key));
        }
        added.stream().filter(key -> key.equals("ingest-bound") || key.startsWith("version-since:")).forEach(stats::delete);
        SpeedProcessor second = start(upgraded, VIEWS);
        sink.forgetViewVersions();
        flush(upgraded, T0 + 60_000);
        assertNull(sink.viewVersions(0), "nothing tells the time before a record");
        process(upgraded, 1, second, "b", "p1", "2026-11-21T10:59:40Z");
        flush(upgraded, T0 + 60_250);
        assertEquals(ViewVersions.all(VIEWS, Instant.parse("2026-11-21T10:59:50Z")), sink.viewVersions(0));
    }

    /**
     * The first owner of a partition whose first offsets are gone (retention deleted them, or the
     * application was reset to a later one) has not processed the records before its first: its
     * versions count from that record.
     */
    @Test
    void aFirstOwnerStartingPastThePartitionsFirstOffsetCountsItsVersionsFromItsFirstRecord() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 7, first, "a", "p1", "2026-11-21T10:59:50Z");
        flush(context, T0 + 250);
        assertEquals(ViewVersions.all(VIEWS, Instant.parse("2026-11-21T10:59:50Z")), sink.viewVersions(0));
    }

    /**
     * Every commit puts the aggregates changed since the one before, those the last commit put
     * already included; and a commit with nothing changed leaves the store as it is.
     */
    @Test
    void eachCommitPutsWhatChangedSinceTheLastOne() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 0, first, "a", "p1", "2026-11-21T10:59:50Z");
        commit(context);
        process(context, 1, first, "b", "p1", "2026-11-21T10:59:51Z");
        process(context, 2, first, "c", "p2", "2026-11-21T10:59:52Z");
        commit(context);
        commit(context);
        MockProcessorContext<byte[], byte[]> restarted = restoredCopy(); // the process dies before any flush

        start(restarted);
        flush(restarted, T0 + 60_000);
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p2", SLOT_10));
        assertEquals(2L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_10), "coarser levels rebuilt from the saved base");
    }

    /**
     * A task that restarts writes the values it restored, which are newer than its last flush
     * (records processed and committed after it): they replace that flush's rows.
     */
    @Test
    void aRestartedTasksRestoredValuesReplaceItsLastFlush() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 0, first, "a", "p1", "2026-11-21T10:59:50Z");
        process(context, 1, first, "b", "p1", "2026-11-21T10:59:51Z");
        flush(context, T0 + 250);
        process(context, 2, first, "c", "p1", "2026-11-21T10:59:52Z"); // committed, then the process dies before its next flush
        MockProcessorContext<byte[], byte[]> restarted = restoredCopy();

        start(restarted);
        flush(restarted, T0 + 60_000); // before any record: what the store holds
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
    }

    /** A flush reported as failed may still have reached Cassandra: the restored state, newer, replaces it all the same. */
    @Test
    void aRestartedTasksRestoredValuesReplaceAFlushThatLandedThoughItFailed() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 0, first, "a", "p2", "2026-11-21T10:59:50Z"); // p2 changes no more: the restored state's newest change is p1's
        flush(context, T0 + 250);
        process(context, 1, first, "b", "p1", "2026-11-21T10:59:51Z");
        nextWriteLandsButFails = true;
        flush(context, T0 + 500);
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10), "the write landed");
        process(context, 2, first, "c", "p1", "2026-11-21T10:59:52Z"); // committed, then the process dies
        MockProcessorContext<byte[], byte[]> restarted = restoredCopy();

        SpeedProcessor next = start(restarted);
        flush(restarted, T0 + 60_000);
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p2", SLOT_10));
        process(restarted, 3, next, "d", "p1", "2026-11-21T10:59:53Z");
        flush(restarted, T0 + 60_250);
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10), "and what comes next replaces that");
    }

    /**
     * Upgrade from the release that stored every level: until the flush that removes its coarser
     * keys, they are kept current in the store, so a task that restarts before that flush (the
     * store committed, Cassandra down or the process killed) writes coarser rows with every event.
     */
    @Test
    void aStoreOfEveryLevelRestartedBeforeItsFirstFlushKeepsItsCoarserLevelsCurrent() {
        store.put(key(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_11), orders(2, INGEST_11));
        store.put(key(Granularity.HOUR, "2026-11-21T10:00:00Z", "p1", SLOT_11), orders(2, INGEST_11));
        store.put(key(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_11), orders(2, INGEST_11));
        SpeedProcessor first = start();
        process(first, "a", "p1", "2026-11-21T11:05:30Z");
        process(first, "b", "p2", "2026-11-21T11:05:31Z"); // a group the stored levels do not have yet
        MockProcessorContext<byte[], byte[]> restarted = restoredCopy(); // committed, then the process dies before a flush

        start(restarted);
        flush(restarted, System.currentTimeMillis());
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_11));
        assertEquals(3L, written(Granularity.HOUR, "2026-11-21T10:00:00Z", "p1", SLOT_11));
        assertEquals(3L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_11));
        assertEquals(1L, written(Granularity.HOUR, "2026-11-21T10:00:00Z", "p2", SLOT_11));
        assertEquals(1L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p2", SLOT_11));
        assertTrue(stored(restarted).stream().allMatch(k -> k.level() == VIEWS.find(k.view()).orElseThrow().granularity()),
                "after that flush only the base level stays: " + stored(restarted));
    }

    /**
     * Upgrade: a store of the release before positions, whose partition has a base already (its
     * first records under this release changed no aggregate: here a malformed one) when the task
     * moves. The restored rows are written below what the next events write.
     */
    @Test
    void anUpgradedStoreTakenOverAfterItsFirstRecordIsWrittenBelowWhatFollows() {
        store.put(key(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10), orders(2, SLOT_10 + 1_000)); // no position
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        context.setRecordMetadata("events", 0, 7);
        first.process(new Record<>(null, "not json".getBytes(StandardCharsets.UTF_8), Instant.parse("2026-11-21T10:59:50Z").toEpochMilli()));
        MockProcessorContext<byte[], byte[]> newOwner = restoredCopy(); // committed, then the task moves

        SpeedProcessor next = start(newOwner);
        flush(newOwner, T0 + 60_000);
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        process(newOwner, 8, next, "c", "p1", "2026-11-21T10:59:52Z");
        flush(newOwner, T0 + 60_250);
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        assertEquals(3L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_10));
    }

    /**
     * Two restarts in a row, each before the task flushed anything but its restored state: the
     * second restored state is newer and replaces the first (no two values with one write time).
     */
    @Test
    void aTaskRestartedTwiceWritesItsNewerRestoredStateOverTheOlder() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 0, first, "a", "p1", "2026-11-21T10:59:50Z");
        flush(context, T0 + 250);
        MockProcessorContext<byte[], byte[]> second = restoredCopy(); // the first process dies after that commit

        SpeedProcessor secondProcessor = start(second);
        flush(second, T0 + 60_000);
        process(second, 1, secondProcessor, "b", "p1", "2026-11-21T10:59:51Z"); // committed, then it dies before its next flush
        MockProcessorContext<byte[], byte[]> third = restoredCopy(second);

        start(third);
        flush(third, T0 + 120_000);
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        assertEquals(2L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", SLOT_10));
    }

    @Test
    void aRestartedTaskStillRefusesEventsOfSlotsClosedBeforeTheRestart() {
        SpeedProcessor first = start();
        process(first, "a", "p1", "2026-11-21T10:59:50Z");
        process(first, "b", "p1", "2026-11-21T10:59:55Z");
        process(first, "c", "p2", "2026-11-21T11:00:31Z");
        flush(); // the 10:00 slot is written and closed
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        commit(context);
        assertTrue(stored().contains(key(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p2", SLOT_11))
                        && stored().stream().allMatch(k -> k.slot() == SLOT_11),
                "the commit puts the open slot's aggregates in the store, not the closed slot's, changed since the last commit: " + stored());

        SpeedProcessor second = start(); // after a crash, a rebalance or a redeploy
        process(second, "d", "p1", "2026-11-21T10:59:58Z"); // the broker clock went back 33 s, before any flush of the new task
        flush();
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10), "not rewritten from the one late event");
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p2", SLOT_11), "the restored open slot is written");
    }

    /**
     * Restarted with slots an hour wide instead of a minute, a partition that closed the slots before
     * 10:59 counts what follows in a slot from 10:59 to 11:00 (the new width's next boundary), rather
     * than refusing it as late for the hour slot of 10:00, which has closed in part.
     */
    @Test
    void aTaskRestartedWithAWiderSlotCountsFromWhereItsSlotsClosedUntilTheNextBoundary() {
        long slot1058 = Instant.parse("2026-11-21T10:58:00Z").toEpochMilli();
        long slot1059 = Instant.parse("2026-11-21T10:59:00Z").toEpochMilli();
        SpeedProcessor minutes = start(context, VIEWS, Duration.ofMinutes(1));
        process(minutes, "a", "p1", "2026-11-21T10:58:10Z");
        process(minutes, "b", "p1", "2026-11-21T10:59:40Z");
        flush(); // the 10:58 slot closes (30 s grace)
        commit(context);

        SpeedProcessor hours = start(context, VIEWS, Duration.ofHours(1));
        process(hours, "c", "p1", "2026-11-21T10:59:45Z");
        process(hours, "d", "p1", "2026-11-21T10:59:55Z");
        process(hours, "e", "p1", "2026-11-21T11:00:10Z");
        flush();
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", slot1058));
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", slot1059), "b, and c and d after the restart");
        assertEquals(3L, written(Granularity.DAY, "2026-11-21T00:00:00Z", "p1", slot1059));
        assertEquals(1L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_11));

        process(hours, "f", "p1", "2026-11-21T11:00:45Z");
        flush(); // 11:00 + grace passed: the 10:59 slot closes
        process(hours, "g", "p1", "2026-11-21T10:59:50Z"); // the broker clock went back past the grace
        flush();
        assertEquals(3L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", slot1059), "closed: not rewritten from g alone");
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_11));
    }

    /**
     * An owner committed a record it had not flushed, then crashed; the next owner, on a partition
     * with no record since, writes the restored rows and records their position as its progress:
     * readers that cache answers until progress moves see the rows.
     */
    @Test
    void aTaskRestartedOnAnIdlePartitionRecordsTheProgressOfWhatItRestored() {
        context.setCurrentSystemTimeMs(T0);
        SpeedProcessor first = start();
        process(context, 0, first, "a", "p1", "2026-11-21T10:59:50Z");
        flush(context, T0 + 250);
        assertEquals(1L, sink.progress(0).nextOffset());
        process(context, 1, first, "b", "p1", "2026-11-21T10:59:51Z"); // committed, never flushed

        MockProcessorContext<byte[], byte[]> next = restoredCopy();
        start(next);
        sink.refuseProgressWrites(1); // Cassandra timed out on it
        flush(next, T0 + 60_000);
        assertEquals(2L, written(Granularity.MINUTE, "2026-11-21T10:59:00Z", "p1", SLOT_10));
        assertEquals(1L, sink.progress(0).nextOffset());
        flush(next, T0 + 60_250); // nothing changed since, nothing processed: the progress is tried again all the same
        assertEquals(2L, sink.progress(0).nextOffset(), "the restored state's position");
    }

    private Object written(Granularity level, String bucket, String product, long slot) {
        var w = sink.rows().get(new CollectingSink.RowKey("sales", level.id(), Instant.parse(bucket).toEpochMilli(), List.of(product, "NP"),
                slot, 0));
        return w == null ? null : w.row().aggregate().get(0).read();
    }

    private List<AggregateKey> stored() {
        return stored(context);
    }

    private static List<AggregateKey> stored(MockProcessorContext<byte[], byte[]> task) {
        KeyValueStore<AggregateKey, SlotAggregate> store = task.getStateStore(SpeedTopology.AGGREGATES_STORE);
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
