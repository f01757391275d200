package dev.lambda.speed.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The speed layer's own metrics (DESIGN §7), registered in a Prometheus registry: events in,
 * per-view updates, duplicates dropped, dead letters by reason, events in closed slots, flush latency and rows, and
 * freshness (now − ingest time of the newest event whose aggregate reached Cassandra). Consumer lag
 * comes from the Kafka consumers' own metrics ({@link ConsumerLag}).
 */
public final class SpeedMetrics {

    private final Counter eventsIn;
    private final Counter viewUpdates;
    private final Counter unusableValues;
    private final Counter duplicates;
    private final Counter closedSlotEvents;
    private final Counter deadLetters;
    private final Counter rowsFlushed;
    private final Counter flushesGivenBack;
    private final Counter flushesHeldBack;
    private final Histogram flushSeconds;
    private final AtomicLong newestFlushedIngest = new AtomicLong(Long.MIN_VALUE);
    private final Map<Integer, AtomicLong> flushedOffsets = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicLong> openAggregates = new ConcurrentHashMap<>();

    public SpeedMetrics(PrometheusRegistry registry) {
        eventsIn = Counter.builder().name("lambda_speed_events_in_total")
                .help("Records read from the events topic").register(registry);
        viewUpdates = Counter.builder().name("lambda_speed_view_updates_total")
                .help("Events folded into a view (once per view, all levels)").labelNames("view").register(registry);
        unusableValues = Counter.builder().name("lambda_speed_unusable_values_total")
                .help("Events whose field for a sum/min/max metric held no usable number (not a plain decimal, or more than 28 digits at"
                        + " the metric's scale): the event was counted, that value added nothing").labelNames("view", "metric")
                .register(registry);
        duplicates = Counter.builder().name("lambda_speed_duplicates_dropped_total")
                .help("Events dropped because their id was seen within the dedup window").register(registry);
        closedSlotEvents = Counter.builder().name("lambda_speed_closed_slot_events_total")
                .help("Events whose ingest time fell in a slot already closed (the broker clock stepped back more than --slot-grace);"
                        + " left to the next batch run").register(registry);
        deadLetters = Counter.builder().name("lambda_speed_dead_letters_total")
                .help("Records sent to the dead-letter topic").labelNames("reason").register(registry);
        rowsFlushed = Counter.builder().name("lambda_speed_rows_flushed_total")
                .help("Speed rows upserted into Cassandra").register(registry);
        flushesGivenBack = Counter.builder().name("lambda_speed_flushes_given_back_total")
                .help("Flushes whose rows stayed changed because Cassandra was down; a later flush writes them").register(registry);
        flushesHeldBack = Counter.builder().name("lambda_speed_flushes_held_back_total")
                .help("Times a partition's flush came due and was held back because it was working off a backlog (records waiting in"
                        + " Kafka, the newest one processed ingested over a second ago) after a slow flush: the time goes to processing,"
                        + " and freshness waits")
                .register(registry);
        flushSeconds = Histogram.builder().name("lambda_speed_flush_seconds")
                .help("Time to write one flush of dirty aggregates to Cassandra")
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).register(registry);
        GaugeWithCallback.builder().name("lambda_speed_freshness_seconds")
                .help("Now minus the ingest time of the newest event whose aggregate is in Cassandra")
                .callback(cb -> {
                    long newest = newestFlushedIngest.get();
                    if (newest != Long.MIN_VALUE) {
                        cb.call((System.currentTimeMillis() - newest) / 1000.0);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("lambda_speed_flushed_offset")
                .help("Per input partition this instance owns: every record before this offset has its aggregates in Cassandra")
                .labelNames("partition")
                .callback(cb -> flushedOffsets.forEach((partition, offset) -> cb.call(offset.get(), Integer.toString(partition))))
                .register(registry);
        GaugeWithCallback.builder().name("lambda_speed_open_aggregates")
                .help("Per input partition this instance owns: aggregates of open slots held in memory (every level), as of the last flush;"
                        + " what the heap must hold grows with it")
                .labelNames("partition")
                .callback(cb -> openAggregates.forEach((partition, n) -> cb.call(n.get(), Integer.toString(partition))))
                .register(registry);
    }

    /** How many aggregates {@code partition}'s task holds in memory after its latest flush. */
    public void openAggregates(int partition, long count) {
        openAggregates.computeIfAbsent(partition, p -> new AtomicLong()).set(count);
    }

    /** What {@link #openAggregates(int, long)} last reported for {@code partition}, or -1. */
    public long openAggregates(int partition) {
        AtomicLong n = openAggregates.get(partition);
        return n == null ? -1 : n.get();
    }

    public void flushGivenBack() {
        flushesGivenBack.inc();
    }

    public long flushesGivenBack() {
        return (long) flushesGivenBack.get();
    }

    public void flushHeldBack() {
        flushesHeldBack.inc();
    }

    public long flushesHeldBack() {
        return (long) flushesHeldBack.get();
    }

    public void eventIn() {
        eventsIn.inc();
    }

    public void viewUpdated(String view) {
        viewUpdates.labelValues(view).inc();
    }

    public void unusableValue(String view, String metric) {
        unusableValues.labelValues(view, metric).inc();
    }

    public long unusableValues(String view, String metric) {
        return (long) unusableValues.labelValues(view, metric).get();
    }

    public void duplicateDropped() {
        duplicates.inc();
    }

    public void closedSlotEvent() {
        closedSlotEvents.inc();
    }

    public long closedSlotEvents() {
        return (long) closedSlotEvents.get();
    }

    public void deadLettered(String reason) {
        deadLetters.labelValues(reason).inc();
    }

    public void flushed(int rows, long nanos, long newestIngestMillis) {
        rowsFlushed.inc(rows);
        flushSeconds.observe(nanos / 1e9);
        newestFlushedIngest.accumulateAndGet(newestIngestMillis, Math::max);
    }

    /** Every record of {@code partition} before {@code offset} has its aggregates in Cassandra. */
    public void flushedThrough(int partition, long offset) {
        flushedOffsets.computeIfAbsent(partition, p -> new AtomicLong(-1)).accumulateAndGet(offset, Math::max);
    }

    /** The partition's task closed here (it moved to another instance, or this one stops): its gauges go with it. */
    public void partitionClosed(int partition) {
        flushedOffsets.remove(partition);
        openAggregates.remove(partition);
    }

    /** The offset {@link #flushedThrough} last reported for {@code partition}, or -1. */
    public long flushedOffset(int partition) {
        AtomicLong offset = flushedOffsets.get(partition);
        return offset == null ? -1 : offset.get();
    }

    public long eventsIn() {
        return (long) eventsIn.get();
    }

    public long duplicatesDropped() {
        return (long) duplicates.get();
    }

    public long deadLetters(String reason) {
        return (long) deadLetters.labelValues(reason).get();
    }

    public long rowsFlushed() {
        return (long) rowsFlushed.get();
    }

    /** Ingest time of the newest event whose aggregate reached the sink, or {@link Long#MIN_VALUE}. */
    public long newestFlushedIngest() {
        return newestFlushedIngest.get();
    }
}
