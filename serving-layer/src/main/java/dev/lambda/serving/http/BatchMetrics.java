package dev.lambda.serving.http;

import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.ViewState;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Each view's batch freshness as gauges, set when {@code /metrics} is scraped: the batch layer runs
 * on a schedule and has no endpoint of its own, so this is where an alert on a batch that stopped
 * publishing (before the speed rows' TTL could take events with it) or on a retired view version
 * looks. A view whose state cannot be read counts as overdue, so such an alert fires then too. Also
 * whether the speed layer runs this instance's view versions at all.
 */
final class BatchMetrics {

    private final Gauge cutoffAge;
    private final Gauge overdue;
    private final Gauge retired;
    private final Gauge versionMissing;

    BatchMetrics(PrometheusRegistry registry) {
        cutoffAge = Gauge.builder().name("lambda_batch_cutoff_age_seconds")
                .help("seconds since the published batch cutoff of the view's version (NaN: none published, or its state unreadable)")
                .labelNames("view").register(registry);
        overdue = Gauge.builder().name("lambda_batch_overdue")
                .help("1 when the view's batch cutoff is older than --batch-overdue or half the speed rows' shortest TTL, none is"
                        + " published, or its state is unreadable")
                .labelNames("view").register(registry);
        retired = Gauge.builder().name("lambda_view_version_retired")
                .help("1 when the batch retired the view version of this instance's views file (its queries answer 410)")
                .labelNames("view").register(registry);
        versionMissing = Gauge.builder().name("lambda_speed_version_missing_partitions")
                .help("input partitions whose speed layer does not run the view version of this instance's views file: its answers"
                        + " miss their events since that layer started (NaN: the speed layer's progress or the view's state unreadable)")
                .labelNames("view").register(registry);
    }

    /**
     * Whether a view's batch is overdue: its published cutoff is older than {@code after}, or than half
     * the speed rows' shortest TTL (the answers need every speed row from the cutoff on, and a row of
     * the cutoff's slot may expire a TTL after it: the alert must come while there is time to run the
     * batch), or none is published.
     *
     * @param speedTtl the shortest TTL the speed layer records for its rows, or {@code null} when none is recorded
     */
    static boolean overdue(Optional<ViewState> state, Instant now, Duration after, Duration speedTtl) {
        Duration limit = speedTtl == null || speedTtl.dividedBy(2).compareTo(after) >= 0 ? after : speedTtl.dividedBy(2);
        return state.map(s -> s.cutoff().isBefore(now.minus(limit))).orElse(true);
    }

    /**
     * The shortest TTL {@code partitions} record for the speed rows, or {@code null} when none is recorded
     * or they could not be read (then the batch's freshness is judged by {@code --batch-overdue} alone:
     * one failed read of the speed layer's progress must not raise a false alert for every view).
     */
    static CompletableFuture<Duration> shortestSpeedTtl(CompletableFuture<List<SpeedPartitionStatus>> partitions) {
        return partitions.thenApply(all -> all == null ? null
                        : all.stream().flatMap(p -> p.rowsTtls().stream()).min(Duration::compareTo).orElse(null))
                .exceptionally(e -> null);
    }

    /**
     * Whether speed rows the answers need may have expired already: the cutoff is older than their
     * shortest TTL, so events ingested after it may be counted nowhere until the batch publishes again.
     */
    static boolean speedRowsMayHaveExpired(Optional<ViewState> state, Instant now, Duration speedTtl) {
        return speedTtl != null && state.map(s -> s.cutoff().isBefore(now.minus(speedTtl))).orElse(false);
    }

    /**
     * The input partitions whose speed layer (the application furthest on each) records view versions
     * without {@code versionKey}: it runs another views file than this instance (a view changed and
     * this instance not restarted yet, or the speed layer not), so speed rows of this version stopped
     * there when it started, and answers miss the events since. {@code null} when unreadable.
     */
    static List<Integer> partitionsWithoutVersion(String versionKey, List<SpeedPartitionStatus> partitions) {
        return partitions == null ? null : SpeedPartitionStatus.reportingVersions(partitions).stream()
                .filter(p -> !p.viewVersions().containsKey(versionKey)).map(SpeedPartitionStatus::partition).sorted().toList();
    }

    /** The speed layer's progress, or {@code null} when it could not be read. */
    static CompletableFuture<List<SpeedPartitionStatus>> orNull(CompletableFuture<List<SpeedPartitionStatus>> partitions) {
        return partitions.exceptionally(e -> null);
    }

    void update(String view, Optional<ViewState> state, Instant now, Duration overdueAfter, Duration speedTtl, List<Integer> missing) {
        versionMissing.labelValues(view).set(missing == null ? Double.NaN : missing.size());
        // a batch host whose clock runs ahead may publish a cutoff after this host's now
        cutoffAge.labelValues(view).set(state.map(s -> Math.max(0, Duration.between(s.cutoff(), now).toMillis() / 1000.0))
                .orElse(Double.NaN));
        overdue.labelValues(view).set(overdue(state, now, overdueAfter, speedTtl) ? 1 : 0);
        retired.labelValues(view).set(state.map(ViewState::retired).orElse(false) ? 1 : 0);
    }

    /** The view's state could not be read. */
    void unknown(String view) {
        cutoffAge.labelValues(view).set(Double.NaN);
        overdue.labelValues(view).set(1);
        retired.labelValues(view).set(Double.NaN);
        versionMissing.labelValues(view).set(Double.NaN);
    }
}
