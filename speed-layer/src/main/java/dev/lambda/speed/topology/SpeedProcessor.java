package dev.lambda.speed.topology;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.event.Event;
import dev.lambda.common.event.ParseResult;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.speed.metrics.SpeedMetrics;
import dev.lambda.speed.sink.RowsNotWrittenException;
import dev.lambda.speed.sink.SpeedRowSink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The speed layer's work for one input partition (one task): validate (rejects to the dead-letter
 * topic), drop duplicate ids seen within the dedup window, fold each event into the aggregate of
 * (view version, level, bucket, dims, slot), whose base level the task's state store keeps, and
 * on a wall-clock punctuation write the changed aggregates to the sink as absolute values.
 *
 * <p>Crash safety: the stores are changelogged under exactly-once, so after a crash they come back
 * as of the last commit and the records after it are processed again, recomputing the same values.
 * The aggregates themselves change in memory, and those that changed go into the store just
 * before each commit ({@link BeforeCommit}): once per commit, not once per event, and still in the
 * transaction that commits the offsets they reflect. Which keys changed since the last flush is
 * kept in memory only, so a task that starts (or restarts) treats every aggregate in its store as
 * changed and writes them all once. An aggregate of a closed slot leaves the store after it has
 * been written.
 *
 * <p>Slots close by the partition's ingest time, which the broker's clock stamps (LogAppendTime): a
 * slot stays open until that time is {@code slotGrace} past the slot's end. A clock that steps back
 * less than that finds the slot's aggregates still there. An event that falls in a slot already
 * closed cannot be added to it: its row would be rewritten from this event alone. So it is counted
 * ({@code lambda_speed_closed_slot_events_total}), logged and left to the next batch run, which
 * counts it by the same ingest time. Its id is still remembered, so its later re-sends are dropped.
 * (Around such a step the two layers may pick different occurrences of one id as the first: the
 * batch takes the earliest time, this layer the first record. The next batch run settles it, as it
 * does for duplicates further apart than the dedup window.)
 *
 * <p>Fencing: every write carries a write time, and the store keeps the write with the later one,
 * whatever order writes arrive in. The write time is the partition's write-time base plus twice the
 * input position the rows reflect. The base is taken from the wall clock when the partition's
 * first record is processed (so it starts above anything an earlier release wrote at wall-clock
 * times) and put in the stats store with that record, so every later owner of the partition uses
 * the same one. (If that record's transaction was not committed, the next owner starts from the
 * same record and takes a base later than the first process did.) Each aggregate in the store
 * keeps the position of its last event, so a task that starts writes what it restored with the
 * newest of them: no row changed after it. A process that lost the partition without knowing it yet
 * (fenced, or cut off from Kafka but not from Cassandra) writes values of an older position, and so
 * with an earlier write time than the new owner's: it cannot replace them. The values of one
 * position are the same whoever computes them: they follow from the log and the stores, which the
 * changelog restores as of a position. (The one exception, a broker clock stepping back past the
 * slot grace, when flush timing decides whether a late event still finds its slot, cannot meet at
 * one write time: the process that refused the event never writes that slot again.)
 *
 * <p>Only the view's base level is in the store (after an upgrade from the release that stored
 * every level, until the first flush). Each coarser level is a sum of base aggregates with the same
 * slot, so it is kept in memory as a {@link Rollup} updated in place, and rebuilt from the store
 * when the task starts: exactly what the store says, whatever happened before.
 */
final class SpeedProcessor implements Processor<byte[], byte[], byte[], byte[]> {

    private static final Logger LOG = LoggerFactory.getLogger(SpeedProcessor.class);
    /**
     * A partition whose newest processed record was ingested at most this long ago counts as caught
     * up, records waiting or not: the flush pacing leaves it alone. (Ingest times are the broker's
     * clock: a skew between the hosts moves this by as much.)
     */
    private static final Duration CAUGHT_UP_WITHIN = Duration.ofSeconds(1);
    /**
     * Working off a backlog, a flush that cost {@code c} is followed by no other until
     * {@code BACKLOG_SPACING * c} after its start (processing keeps up to 11/12 of the time), and at
     * most as long as the partition was behind at that flush. Each flush then rewrites each changed
     * row once for many events: in the benchmark's 1M-event backlog, 0.7-0.8 rows per event instead
     * of 1.6-1.7 with a spacing of 4.
     */
    private static final int BACKLOG_SPACING = 12;

    private final ViewCatalog catalog;
    private final SpeedSettings settings;
    private final SpeedRowSink sink;
    private final SpeedMetrics metrics;
    private final EnvelopeParser parser;
    private final BeforeCommit beforeCommit;
    /**
     * {@link System#nanoTime()} by which the tasks of a stopping instance must have written their last
     * changes; {@code Long.MAX_VALUE} while it runs (a rebalance moving a task away, or a failure
     * closing it, is not a stop).
     */
    private final LongSupplier stopBy;
    /**
     * The clock a flush's cost is measured with, in nanoseconds ({@link System#nanoTime()}); the
     * pacing compares that cost with the wall-clock time between flushes.
     */
    private final LongSupplier ticker;
    /** Records waiting in Kafka per input partition: whether the pacing holds a flush back. */
    private final InputLag inputLag;
    private final Map<String, List<ViewPlan>> plansByType = new HashMap<>();
    /**
     * Every base-level aggregate in the store, as the store will have it at the next commit (the
     * store is written, never read, while processing).
     */
    private final Map<AggregateKey, Cell> base = new HashMap<>();
    /** Coarser-level aggregates of the slots in {@link #base}. */
    private final Map<AggregateKey, Cell> rollups = new HashMap<>();
    /**
     * The aggregates changed since the last flush, base and coarser, each once: a list of the cells
     * themselves, so that a flush takes their values without looking each key up again.
     */
    private final List<Cell> dirty = new ArrayList<>();
    /**
     * The base-level aggregates changed since the store last got them: they are put in the store
     * just before each commit ({@link BeforeCommit}), each once, not at every event.
     */
    private final List<Cell> unsaved = new ArrayList<>();
    /**
     * Keys in the store this process does not use (a view it no longer has, coarser keys of a
     * release that stored every level): they go at the next flush.
     */
    private final Set<AggregateKey> stale = new LinkedHashSet<>();
    /**
     * Set while the store holds the coarser keys of a release that stored every level, until the
     * flush that removes them: meanwhile coarser aggregates are stored too (as that release did),
     * so a task that restarts before that flush finds them current, not as they were restored.
     */
    private boolean storingLevels;
    /**
     * Slots below this have left {@link #base}, {@link #rollups} and the store: closed. Kept in the
     * partition's stats store, written together with the closed slots' removal, so that a restarted
     * task refuses the same events from its first record on.
     */
    private long openFrom = Long.MIN_VALUE;
    /** The closed slot last reported in the log, so a clock step back logs once per slot, not per event. */
    private long lastReportedClosedSlot = Long.MIN_VALUE;

    private static final String DUPLICATES_KEY = "duplicates";
    private static final String DEAD_LETTER_KEY = "dead-letters:";
    private static final String OPEN_FROM_KEY = "open-from";
    private static final String WRITE_TIME_BASE_KEY = "write-time-base";
    private static final String FIRST_POSITION_KEY = "first-position";

    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<AggregateKey, SlotAggregate> aggregates;
    private WindowStore<String, Long> seenIds;
    private int partition;
    /** Next offset of the input partition after the last record processed; -1 before the first. */
    private long processedThrough = -1;
    /**
     * The position of the state as the task restored it: the newest of its aggregates' positions.
     * No aggregate changed after it, so every row's value is that position's. -1 if not known.
     */
    private long restoredPosition = -1;
    private long newestRecordIngest = Long.MIN_VALUE;
    /** The newest ingest among the restored aggregates, of views this process does not have too. */
    private long newestRestoredIngest = Long.MIN_VALUE;
    /** Write time (µs) of position 0; {@link Long#MIN_VALUE} until the partition's first record sets it. */
    private long writeTimeBase = Long.MIN_VALUE;
    /**
     * The offset of the record that set {@link #writeTimeBase}: an aggregate of an earlier release's
     * store (no position) that is still unchanged has not changed since before it. -1 until set.
     */
    private long firstPosition = -1;
    private KeyValueStore<String, Long> partitionStats;
    /** The view versions this task reports, and since when. */
    private VersionTimes versions;
    private long duplicatesDropped;
    private final Map<String, Long> deadLetters = new TreeMap<>();
    /** The progress last recorded in the sink, so an idle partition does not rewrite it. */
    private SpeedRowSink.Progress recordedProgress;
    private long lastFlushAt;
    private long lastFlushMillis;
    /**
     * How old the newest processed record was at the last flush (ms): how far behind its input the
     * partition was then. 0 if no record had been processed, or the broker's clock was ahead.
     */
    private long behindAtLastFlush;
    /** After a flush's rows were given back (the sink's store is down): no flush before this, on the wall clock. */
    private long retryAt;
    /** Whether the last flush gave its rows back (the sink's store was down): logged once per outage. */
    private boolean givenBack;
    /** The slot of the newest ingest the sink last recorded this task's slot width with; Long.MIN_VALUE before that. */
    private long slotWidthRecordedThrough;

    /**
     * One aggregate in memory, updated in place: a base-level one, with the input position after its
     * last event, or a coarser one (no position); whether it is in {@link #dirty} and in
     * {@link #unsaved}; and whether it has left the store (its slot closed).
     */
    private static final class Cell {
        final AggregateKey key;
        final ViewDefinition view;
        final Rollup rollup;
        long position = -1;
        boolean dirty;
        boolean unsaved;
        boolean closed;
        /**
         * A base-level cell's coarser cells (its view's coarser levels, in order), found at its first
         * event, so that later events look up one key per view rather than one per level. They
         * have the cell's slot, so they leave {@link #rollups} when it leaves {@link #base}.
         */
        Cell[] coarser;

        Cell(AggregateKey key, ViewDefinition view, Rollup rollup) {
            this.key = key;
            this.view = view;
            this.rollup = rollup;
        }

        Cell(AggregateKey key, ViewDefinition view) {
            this(key, view, new Rollup(view));
        }
    }

    /** A view with its version computed once, its base level and its coarser ones. */
    /** @param unusable reports a metric (by index) whose input held no usable number */
    private record ViewPlan(ViewDefinition view, String version, Granularity base, List<Granularity> coarser, IntConsumer unusable) {
        ViewPlan(ViewDefinition view, SpeedMetrics metrics) {
            this(view, view.version(), view.granularity(), view.levels().subList(1, view.levels().size()),
                    metric -> metrics.unusableValue(view.name(), view.metrics().get(metric).name()));
        }
    }

    SpeedProcessor(ViewCatalog catalog, SpeedSettings settings, SpeedRowSink sink, SpeedMetrics metrics, LongSupplier stopBy,
                   BeforeCommit beforeCommit, InputLag inputLag, LongSupplier ticker) {
        this.catalog = catalog;
        this.ticker = ticker;
        this.inputLag = inputLag;
        this.beforeCommit = beforeCommit;
        this.settings = settings;
        this.sink = sink;
        this.metrics = metrics;
        this.stopBy = stopBy;
        this.parser = new EnvelopeParser(settings.futureTolerance());
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        // Kafka Streams may init the same instance again (a task revived after an aborted transaction):
        // everything in memory starts over from the restored stores
        plansByType.clear();
        base.clear();
        rollups.clear();
        dirty.clear(); // its cells leave with the maps
        unsaved.clear();
        stale.clear();
        storingLevels = false;
        openFrom = Long.MIN_VALUE;
        lastReportedClosedSlot = Long.MIN_VALUE;
        deadLetters.clear();
        duplicatesDropped = 0;
        processedThrough = -1;
        restoredPosition = -1;
        newestRecordIngest = Long.MIN_VALUE;
        newestRestoredIngest = Long.MIN_VALUE;
        writeTimeBase = Long.MIN_VALUE;
        firstPosition = -1;
        recordedProgress = null;
        lastFlushAt = 0;
        lastFlushMillis = 0;
        behindAtLastFlush = 0;
        retryAt = 0;
        givenBack = false;
        slotWidthRecordedThrough = Long.MIN_VALUE;
        this.context = context;
        this.partition = context.taskId().partition();
        this.aggregates = context.getStateStore(SpeedTopology.AGGREGATES_STORE);
        this.seenIds = context.getStateStore(SpeedTopology.SEEN_IDS_STORE);
        this.partitionStats = context.getStateStore(SpeedTopology.PARTITION_STATS_STORE);
        this.versions = new VersionTimes(partitionStats, catalog.views().stream().map(ViewDefinition::versionKey).toList());
        try (KeyValueIterator<String, Long> all = partitionStats.all()) {
            all.forEachRemaining(kv -> {
                if (kv.key.equals(DUPLICATES_KEY)) {
                    duplicatesDropped = kv.value;
                } else if (kv.key.equals(OPEN_FROM_KEY)) {
                    openFrom = kv.value;
                } else if (kv.key.equals(WRITE_TIME_BASE_KEY)) {
                    writeTimeBase = kv.value;
                } else if (kv.key.equals(FIRST_POSITION_KEY)) {
                    firstPosition = kv.value;
                } else if (kv.key.startsWith(DEAD_LETTER_KEY)) {
                    deadLetters.put(kv.key.substring(DEAD_LETTER_KEY.length()), kv.value);
                } else {
                    versions.restore(kv.key, kv.value);
                }
            });
        }
        Map<String, ViewPlan> plansByVersion = new HashMap<>();
        for (ViewDefinition view : catalog.views()) {
            ViewPlan plan = new ViewPlan(view, metrics);
            plansByVersion.put(view.versionKey(), plan);
            for (String type : view.events()) {
                plansByType.computeIfAbsent(type, t -> new ArrayList<>()).add(plan);
            }
        }
        restore(plansByVersion);
        versions.restored();
        beforeCommit.register(context.taskId(), this::save);
        context.schedule(settings.flushInterval(), PunctuationType.WALL_CLOCK_TIME, this::flush);
    }

    /**
     * Takes the aggregates the store holds into memory, all of them to be written once. The newest
     * ingest time among them stands for the partition's ingest time, so the slots it has closed are
     * written and leave the store at the first flush, as if the task had never stopped.
     *
     * <p>A store written by a release that kept every level in it (coarser keys present) is taken
     * as it is: its coarser values are what that release wrote to Cassandra, and a closed slot's
     * base keys there may be incomplete, so nothing is derived from them. Its coarser keys leave the
     * store at the first flush that succeeds, together with every closed slot (until then coarser
     * aggregates are stored as they change), and from then on the store holds base keys only.
     * (Going back to such a release on a store of this one is not supported: it would start
     * coarser levels from zero; use a new application id.)
     */
    private void restore(Map<String, ViewPlan> plansByVersion) {
        List<KeyValue<AggregateKey, SlotAggregate>> stored = new ArrayList<>();
        try (KeyValueIterator<AggregateKey, SlotAggregate> all = aggregates.all()) {
            all.forEachRemaining(stored::add);
        }
        boolean everyLevelStored = false;
        for (KeyValue<AggregateKey, SlotAggregate> kv : stored) {
            ViewPlan plan = plansByVersion.get(kv.key.view() + "/" + kv.key.version());
            everyLevelStored |= plan != null && kv.key.level() != plan.base();
            newestRestoredIngest = Math.max(newestRestoredIngest, kv.value.latestIngest());
        }
        storingLevels = everyLevelStored;
        Set<String> unknown = new TreeSet<>();
        for (KeyValue<AggregateKey, SlotAggregate> kv : stored) {
            ViewPlan plan = plansByVersion.get(kv.key.view() + "/" + kv.key.version());
            if (plan == null) {
                stale.add(kv.key); // a view this process does not have
                unknown.add(kv.key.view() + " " + kv.key.version());
                continue;
            }
            newestRecordIngest = Math.max(newestRecordIngest, kv.value.latestIngest());
            restoredPosition = Math.max(restoredPosition, kv.value.position() >= 0 ? kv.value.position() : firstPosition);
            if (kv.key.level() != plan.base()) {
                Cell coarse = rollups.computeIfAbsent(kv.key, k -> new Cell(k, plan.view()));
                coarse.rollup.add(kv.value);
                changed(coarse);
                stale.add(kv.key); // kept in memory from now on
                continue;
            }
            Cell cell = new Cell(kv.key, plan.view(), new Rollup(plan.view(), kv.value));
            cell.position = kv.value.position();
            base.put(kv.key, cell);
            changed(cell);
            if (everyLevelStored) {
                continue;
            }
            Instant bucket = Instant.ofEpochMilli(kv.key.bucket());
            for (Granularity level : plan.coarser()) {
                AggregateKey coarse = new AggregateKey(kv.key.view(), kv.key.version(), level, level.bucketOf(bucket).toEpochMilli(),
                        kv.key.dims(), kv.key.slot());
                Cell rollup = rollups.computeIfAbsent(coarse, k -> new Cell(k, plan.view()));
                rollup.rollup.add(kv.value);
                changed(rollup);
            }
        }
        if (!unknown.isEmpty()) {
            // expected once after a view was changed or removed; at any other time, instances of the application run different files
            LOG.warn("partition {}: the state holds open slots of view versions this views file does not have ({}); they are dropped:"
                    + " every instance of an application must run the same views file", partition, String.join(", ", unknown));
        }
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        metrics.eventIn();
        long ingest = record.timestamp();
        long offset = context.recordMetadata().map(RecordMetadata::offset).orElse(-1L);
        versions.beforeRecord(ingest, VersionTimes.sinceFirstRecord(offset, writeTimeBase == Long.MIN_VALUE, ingest,
                Math.max(newestRecordIngest, newestRestoredIngest)));
        if (offset >= 0) {
            if (writeTimeBase == Long.MIN_VALUE) { // the partition's first record: its base goes with it
                writeTimeBase = context.currentSystemTimeMs() * 1_000 - 2 * offset;
                firstPosition = offset;
                partitionStats.put(WRITE_TIME_BASE_KEY, writeTimeBase);
                partitionStats.put(FIRST_POSITION_KEY, firstPosition);
            }
            processedThrough = offset + 1;
        }
        newestRecordIngest = Math.max(newestRecordIngest, ingest);
        ParseResult parsed = parser.parse(record.value(), ingest);
        if (parsed instanceof ParseResult.Rejected rejected) {
            deadLetter(record, rejected);
            return;
        }
        Event event = ((ParseResult.Valid) parsed).event();
        if (isDuplicate(event.id(), ingest)) {
            metrics.duplicateDropped();
            partitionStats.put(DUPLICATES_KEY, ++duplicatesDropped);
            return;
        }
        if (ingest < openFrom) {
            closedSlotEvent(event, ingest, settings.slots().slotOf(ingest).toEpochMilli());
            return;
        }
        // restarted with a wider slot, the partition closed the slots below a point inside one of the new
        // width: that slot's part from there on is a slot of its own (no cutoff the batch takes lies inside
        // a slot of the width the rows were written with, so none splits it)
        long slot = Math.max(settings.slots().slotOf(ingest).toEpochMilli(), openFrom);
        for (ViewPlan plan : plansByType.getOrDefault(event.type(), List.of())) {
            ViewDefinition view = plan.view();
            List<String> dims = new ArrayList<>(view.dimensions().size());
            for (String d : view.dimensions()) {
                String value = event.attr(d);
                dims.add(value == null ? "" : value);
            }
            AggregateKey key = new AggregateKey(view.name(), plan.version(), plan.base(),
                    plan.base().bucketOf(event.ts()).toEpochMilli(), dims, slot);
            Cell cell = base.get(key);
            if (cell == null) {
                cell = new Cell(key, view);
                base.put(key, cell);
            }
            cell.rollup.add(event, ingest, plan.unusable());
            cell.position = processedThrough;
            changed(cell);
            if (!cell.unsaved) {
                cell.unsaved = true;
                unsaved.add(cell);
            }
            if (cell.coarser == null) {
                cell.coarser = coarserCells(plan, key, event.ts());
            }
            for (Cell rollup : cell.coarser) {
                rollup.rollup.add(event, ingest);
                changed(rollup);
                if (storingLevels) {
                    aggregates.put(rollup.key, rollup.rollup.snapshot());
                    stale.add(rollup.key);
                }
            }
            metrics.viewUpdated(view.name());
        }
    }

    /** The coarser cells of the base-level {@code key}, of an event at {@code ts}: created if not there yet. */
    private Cell[] coarserCells(ViewPlan plan, AggregateKey key, Instant ts) {
        Cell[] cells = new Cell[plan.coarser().size()];
        for (int i = 0; i < cells.length; i++) {
            Granularity level = plan.coarser().get(i);
            AggregateKey coarse = new AggregateKey(key.view(), key.version(), level, level.bucketOf(ts).toEpochMilli(), key.dims(),
                    key.slot());
            cells[i] = rollups.computeIfAbsent(coarse, k -> new Cell(k, plan.view()));
        }
        return cells;
    }

    private void changed(Cell cell) {
        if (!cell.dirty) {
            cell.dirty = true;
            dirty.add(cell);
        }
    }

    /**
     * Puts the base-level aggregates changed since the last commit in the store: run by Kafka
     * Streams just before it commits the task, so the store it commits holds every event the
     * committed offsets cover. (Aggregates of closed slots have left the store; they stay out.)
     * The values share the cells' sketches rather than copies: the store serializes them as they go
     * in, on this thread, before any event changes them.
     */
    private void save() {
        if (unsaved.isEmpty()) {
            return;
        }
        List<KeyValue<AggregateKey, SlotAggregate>> values = new ArrayList<>(unsaved.size());
        for (Cell cell : unsaved) {
            cell.unsaved = false;
            if (!cell.closed) {
                values.add(KeyValue.pair(cell.key, cell.rollup.sharingSketches(cell.position)));
            }
        }
        unsaved.clear();
        aggregates.putAll(values);
    }

    /** After the changed aggregates were written. */
    private void clearChanged() {
        dirty.forEach(cell -> cell.dirty = false);
        dirty.clear();
    }

    /**
     * After the sink gave some of a flush's rows back: the others are stored, so only the aggregates
     * of the given-back rows stay changed (nothing changed since: the flush runs on the task's thread).
     *
     * @param writes the flush's rows, {@link #changedRows()} of {@link #dirty} in its order
     */
    private void keepChanged(List<SpeedRowSink.Write> writes, List<SpeedRowSink.Write> unwritten) {
        if (unwritten.size() >= writes.size()) {
            return; // none stored: all stay changed
        }
        Set<SpeedRowSink.Write> givenBack = Collections.newSetFromMap(new IdentityHashMap<>());
        givenBack.addAll(unwritten);
        List<Cell> still = new ArrayList<>(unwritten.size());
        List<Cell> stored = new ArrayList<>(writes.size() - unwritten.size());
        for (int i = 0; i < writes.size(); i++) {
            (givenBack.contains(writes.get(i)) ? still : stored).add(dirty.get(i));
        }
        if (still.size() != givenBack.size()) { // not the rows it was handed: which are stored is not known
            LOG.warn("partition {}: the sink gave back {} rows that are not among the {} of the flush; all of them stay changed",
                    partition, givenBack.size() - still.size(), writes.size());
            return;
        }
        stored.forEach(cell -> cell.dirty = false);
        dirty.clear();
        dirty.addAll(still);
    }

    /** An id as the sender chose it, with control characters escaped: a line break in it must not forge a log line. */
    static String printable(String id) {
        StringBuilder out = new StringBuilder(id.length());
        id.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    private void closedSlotEvent(Event event, long ingest, long slot) {
        metrics.closedSlotEvent();
        if (slot != lastReportedClosedSlot) {
            lastReportedClosedSlot = slot;
            LOG.warn("partition {}: event {} ingested at {} falls in slot {}, already closed (slots before {} are; the partition's"
                    + " newest ingest time is {}): the broker clock stepped back more than the slot grace. The next batch run counts it,"
                    + " the speed layer does not", partition, printable(event.id()), Instant.ofEpochMilli(ingest),
                    Instant.ofEpochMilli(slot), Instant.ofEpochMilli(openFrom), Instant.ofEpochMilli(newestRecordIngest));
        }
    }

    /**
     * The first occurrence of an id in the partition counts; a later one within the window is a
     * duplicate. The look-up reaches up to the partition's newest ingest time, not just this
     * record's: after the broker clock stepped back, an earlier occurrence can carry a later time.
     */
    private boolean isDuplicate(String id, long ingest) {
        try (WindowStoreIterator<Long> seen = seenIds.fetch(id, ingest - settings.dedupWindow().toMillis(),
                Math.max(ingest, newestRecordIngest))) {
            if (seen.hasNext()) {
                return true;
            }
        }
        seenIds.put(id, ingest, ingest);
        return false;
    }

    private void deadLetter(Record<byte[], byte[]> record, ParseResult.Rejected rejected) {
        Headers added = new RecordHeaders();
        added.add(DeadLetterHeaders.REASON, utf8(rejected.reason().code()));
        String detail = rejected.detail(); // may quote an attribute name of up to 50,000 characters
        added.add(DeadLetterHeaders.DETAIL, utf8(detail.length() <= 1_000 ? detail
                : detail.substring(0, Character.isHighSurrogate(detail.charAt(999)) ? 999 : 1_000) + "…")); // a pair stays whole
        context.recordMetadata().ifPresent((RecordMetadata m) -> {
            added.add(DeadLetterHeaders.SOURCE_TOPIC, utf8(m.topic()));
            added.add(DeadLetterHeaders.SOURCE_PARTITION, utf8(Integer.toString(m.partition())));
            added.add(DeadLetterHeaders.SOURCE_OFFSET, utf8(Long.toString(m.offset())));
        });
        Headers headers = new RecordHeaders(record.headers().toArray());
        added.forEach(headers::add);
        context.forward(fitted(record, headers, added), SpeedTopology.DEAD_LETTER_SINK);
        metrics.deadLettered(rejected.reason().code());
        String reason = rejected.reason().code();
        long count = deadLetters.merge(reason, 1L, Long::sum);
        partitionStats.put(DEAD_LETTER_KEY + reason, count);
    }

    /**
     * The dead letter with {@code headers} (the record's own, then this layer's), cut to fit
     * {@link SpeedSettings#deadLetterMaxBytes} if the whole would not: its value to its first bytes,
     * marked with {@link DeadLetterHeaders#TRUNCATED_FROM}; and should the key and headers alone not
     * fit, without its own headers and value, its key cut too, marked with
     * {@link DeadLetterHeaders#HEADERS_DROPPED}. (A record near the topic's size limit, once
     * headers are added, is one the producer refuses: the stream thread would fail and get it back
     * without end. The whole record stays in the source topic at its offset.)
     */
    private Record<byte[], byte[]> fitted(Record<byte[], byte[]> record, Headers headers, Headers added) {
        byte[] key = record.key() == null ? new byte[0] : record.key();
        byte[] value = record.value() == null ? new byte[0] : record.value();
        int limit = settings.deadLetterMaxBytes();
        if (key.length + value.length + size(headers) <= limit) {
            return record.withHeaders(headers);
        }
        Headers marked = new RecordHeaders(headers.toArray());
        marked.add(DeadLetterHeaders.TRUNCATED_FROM, utf8(Integer.toString(value.length)));
        long room = limit - key.length - size(marked);
        if (room >= 0) {
            return record.withHeaders(marked).withValue(Arrays.copyOf(value, (int) Math.min(room, value.length)));
        }
        Headers ours = new RecordHeaders(added.toArray());
        ours.add(DeadLetterHeaders.TRUNCATED_FROM, utf8(Integer.toString(value.length)));
        ours.add(DeadLetterHeaders.HEADERS_DROPPED, utf8(Integer.toString(headers.toArray().length - added.toArray().length)));
        int keyRoom = (int) Math.max(0, Math.min(key.length, limit - size(ours)));
        return record.withHeaders(ours).withKey(Arrays.copyOf(key, keyRoom)).withValue(new byte[0]);
    }

    /** An upper bound of the bytes headers take in a record: their keys (3 bytes a char at most), values and lengths. */
    private static long size(Headers headers) {
        long size = 0;
        for (var h : headers) {
            size += h.key().length() * 3L + (h.value() == null ? 0 : h.value().length) + 10;
        }
        return size;
    }

    /** Writes every changed aggregate, waits for the sink, then drops aggregates of closed slots. */
    private void flush(long now) {
        try {
            versions.record(sink, partition, now);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dirty.isEmpty() && stale.isEmpty()) {
            reportFlushedThrough(position()); // a task restarted on an idle partition may owe the progress of what it restored
            return;
        }
        if (now < retryAt) {
            return;
        }
        // working off a backlog (records waiting in Kafka, the newest one processed ingested over
        // CAUGHT_UP_WITHIN ago) with slow flushes, a partition flushes less often, so that processing
        // keeps most of the time and each flush carries more updates per row; but never longer after
        // its last flush than it was behind then, which at most doubles how old its rows get.
        // Within CAUGHT_UP_WITHIN (records wait for a moment after a pause or a slow write), or with
        // its input read to the end, it flushes at every interval whatever the last flush cost:
        // holding one back would only add to the latency
        if (now - lastFlushAt < Math.min(BACKLOG_SPACING * lastFlushMillis, behindAtLastFlush)
                && newestRecordIngest < now - CAUGHT_UP_WITHIN.toMillis() && inputLag.recordsBehind(partition) > 0) {
            metrics.flushHeldBack();
            return;
        }
        long through = position();
        long started = ticker.getAsLong();
        List<SpeedRowSink.Write> writes = changedRows();
        long writeTime = writeTime(through, now);
        long waited; // for a store that was down, between attempts: not what the flush costs
        try {
            Instant widthThrough = slotWidthToRecord(writes);
            if (widthThrough != null) {
                if (!sink.recordSlotWidth(partition, widthThrough, writeTime)) {
                    throw new RowsNotWrittenException("slot width not recorded, so none of the rows are written", writes);
                }
                slotWidthRecorded(widthThrough);
            }
            long called = ticker.getAsLong();
            long work = sink.writeAll(writes, writeTime);
            waited = Math.max(0, ticker.getAsLong() - called - work);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("flush of {} rows interrupted; they stay dirty", writes.size());
            return;
        } catch (RowsNotWrittenException e) {
            metrics.flushGivenBack();
            keepChanged(writes, e.unwritten());
            if (!givenBack) {
                LOG.warn("partition {}: {}; {} of the {} changed rows stay changed and a later flush writes them", partition,
                        e.getMessage(), e.unwritten().size(), writes.size());
            }
            givenBack = true;
            retryAt = now + 4 * settings.flushInterval().toMillis(); // the next try comes after a few flush intervals, not at once
            return;
        }
        if (givenBack) {
            LOG.info("partition {}: rows written again", partition);
            givenBack = false;
        }
        List<KeyValue<AggregateKey, SlotAggregate>> closed = new ArrayList<>();
        stale.forEach(key -> closed.add(KeyValue.pair(key, null)));
        stale.clear();
        versions.forgetDropped();
        storingLevels = false;
        long closeBelow = closeBelow();
        if (openFrom < closeBelow) { // a slot closed since the last flush: its aggregates are all written now
            base.values().removeIf(cell -> {
                if (cell.key.slot() >= closeBelow) {
                    return false;
                }
                cell.closed = true; // a commit must not put it back
                closed.add(KeyValue.pair(cell.key, null));
                return true;
            });
            rollups.keySet().removeIf(key -> key.slot() < closeBelow);
            openFrom = closeBelow;
            partitionStats.put(OPEN_FROM_KEY, openFrom);
        }
        if (!closed.isEmpty()) {
            aggregates.putAll(closed);
        }
        clearChanged();
        long took = ticker.getAsLong() - started;
        lastFlushAt = now;
        lastFlushMillis = (took - waited) / 1_000_000;
        behindAtLastFlush = newestRecordIngest == Long.MIN_VALUE ? 0 : Math.max(0, now - newestRecordIngest);
        metrics.flushed(writes.size(), took, newestIngest(writes));
        metrics.openAggregates(partition, base.size() + rollups.size());
        reportFlushedThrough(through);
    }

    /**
     * The rows of every key changed since the last flush, with their values now. Their sketches are
     * the cells' own, not copies: the sink reads them during its call, on this thread, before any
     * event changes them, and keeps no reference ({@link SpeedRowSink.Write}).
     */
    private List<SpeedRowSink.Write> changedRows() {
        List<SpeedRowSink.Write> writes = new ArrayList<>(dirty.size());
        for (Cell cell : dirty) {
            AggregateKey key = cell.key;
            SlotAggregate value = cell.rollup.sharingSketches(cell.position);
            writes.add(new SpeedRowSink.Write(cell.view, new SpeedRow(key.level(), Instant.ofEpochMilli(key.bucket()), key.dims(),
                    Instant.ofEpochMilli(key.slot()), partition, value.aggregate(), Instant.ofEpochMilli(value.latestIngest()))));
        }
        return writes;
    }

    private static long newestIngest(List<SpeedRowSink.Write> writes) {
        return writes.stream().mapToLong(w -> w.row().latestIngest().toEpochMilli()).max().orElse(Long.MIN_VALUE);
    }

    /**
     * When the instance stops, writes what changed since the last flush, trying once within the
     * stop's time (the tasks of a stream thread close one after another): otherwise the
     * last flush interval's events would be missing from the rows until the partition's task starts
     * again somewhere, which after a shutdown may be never. The store is left as it is (the task's
     * last commit covers it). Nothing is written when a task closes for any other reason: a task a
     * rebalance moved away is written in full by its new owner when that starts, and after a failure
     * this process may no longer own the partition, so its values may be behind the owner's.
     * Either way the partition's gauges leave this instance's metrics.
     */
    @Override
    public void close() {
        try {
            writeWhileStopping();
        } finally {
            metrics.partitionClosed(partition);
        }
    }

    private void writeWhileStopping() {
        long deadline = stopBy.getAsLong();
        if (deadline == Long.MAX_VALUE || dirty.isEmpty()) {
            return;
        }
        List<SpeedRowSink.Write> writes = changedRows();
        long started = System.nanoTime();
        try {
            long writeTime = writeTime(processedThrough, System.currentTimeMillis());
            Instant widthThrough = slotWidthToRecord(writes);
            if (started - deadline >= 0 || widthThrough != null && !sink.tryRecordSlotWidth(partition, widthThrough, writeTime, deadline)
                    || !sink.tryWriteAll(writes, writeTime, deadline)) {
                LOG.warn("partition {}: {} changed rows could not be written while stopping; they are written when the partition's"
                        + " task next starts", partition, writes.size());
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        clearChanged();
        metrics.flushed(writes.size(), System.nanoTime() - started, newestIngest(writes));
        if (System.nanoTime() - deadline < 0) {
            reportFlushedThrough(position());
        }
        LOG.info("partition {}: wrote the {} rows changed since the last flush before stopping", partition, writes.size());
    }

    /**
     * The newest ingest of {@code writes} when they reach a slot past the one their slot width was
     * last recorded with, else {@code null}: the sink records it before they are written
     * ({@link SpeedRowSink#recordSlotWidth}), so a task records it before its first rows (a restart
     * may have changed the width), then once a slot.
     */
    private Instant slotWidthToRecord(List<SpeedRowSink.Write> writes) {
        if (writes.isEmpty()) {
            return null;
        }
        long newest = newestIngest(writes);
        return settings.slots().slotOf(newest).toEpochMilli() > slotWidthRecordedThrough ? Instant.ofEpochMilli(newest) : null;
    }

    private void slotWidthRecorded(Instant through) {
        slotWidthRecordedThrough = settings.slots().slotOf(through.toEpochMilli()).toEpochMilli();
    }

    /**
     * The write time (µs) of rows that reflect the input before {@code through}, or of the state as
     * restored if no record was processed since the task started ({@code through} -1). Without a
     * position (a store of a release that did not keep positions, before the partition's first
     * record under this one) the wall clock's {@code nowMillis}: later than that release's writes,
     * earlier than the base the first record will take.
     */
    private long writeTime(long through, long nowMillis) {
        long position = through >= 0 ? through : restoredPosition;
        return position < 0 || writeTimeBase == Long.MIN_VALUE ? nowMillis * 1_000 : writeTimeBase + 2 * position;
    }

    /**
     * The input position the rows reflect: after the last record processed, or, a task restarted
     * on an idle partition having processed none, that of the state it restored, which its rows
     * then hold. So its progress says so too, and readers that cache answers until progress moves
     * see those rows. (A position an earlier owner recorded past it has a later write time, and stays.)
     */
    private long position() {
        return processedThrough >= 0 ? processedThrough : restoredPosition;
    }

    /** Slots below this are closed: the partition's ingest time is more than the grace past their end. */
    private long closeBelow() {
        if (newestRecordIngest == Long.MIN_VALUE) {
            return Long.MIN_VALUE;
        }
        return settings.slots().slotOf(newestRecordIngest - settings.slotGrace().toMillis()).toEpochMilli();
    }

    /** Every record of this partition before {@code offset} has its effect in Cassandra (or the DLQ). */
    private void reportFlushedThrough(long offset) {
        if (offset < 0) {
            return;
        }
        SpeedRowSink.Progress progress = new SpeedRowSink.Progress(partition, offset,
                newestRecordIngest == Long.MIN_VALUE ? null : Instant.ofEpochMilli(newestRecordIngest), duplicatesDropped, deadLetters);
        if (!progress.equals(recordedProgress)) {
            try {
                // readers cache answers until progress moves, so it is recorded before anyone is told the rows are there
                if (!sink.writeProgress(progress, writeTime(offset, System.currentTimeMillis()))) {
                    return; // the next flush tries again
                }
                recordedProgress = progress;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        metrics.flushedThrough(partition, offset);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
