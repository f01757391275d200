package dev.lambda.serving.query;

import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.serving.store.ViewRows;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells whether the speed layer may have written rows since a moment: it polls the speed layer's
 * per-partition progress ({@code speed_partitions}, recorded after every flush that wrote rows) and
 * bumps a version whenever any partition moved. Answers computed under one version stay valid until
 * the version changes: at most about two poll intervals after the speed layer recorded progress (a
 * poll that started just before the write misses it, the next one sees it). When a poll fails nothing
 * is trusted: every failure is a new version, and {@link #current()} turns false when polls stall.
 */
public final class SpeedChanges implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpeedChanges.class);

    private final ViewRows rows;
    private final long intervalNanos;
    private final AtomicLong version = new AtomicLong();
    /** When the last successful poll started (its reading reflects progress recorded before then). */
    private volatile long lastGoodPollStart = Long.MIN_VALUE;
    private final ScheduledExecutorService poller;
    private volatile Set<SpeedPartitionStatus> last;
    private final List<LongConsumer> listeners = new CopyOnWriteArrayList<>();

    private SpeedChanges(ViewRows rows, Duration interval) {
        this.rows = rows;
        this.intervalNanos = interval.toNanos();
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "speed-changes");
            t.setDaemon(true);
            return t;
        });
        poll();
        poller.scheduleWithFixedDelay(this::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Polls every {@code interval}. */
    public static SpeedChanges every(ViewRows rows, Duration interval) {
        return new SpeedChanges(rows, interval);
    }

    /**
     * Calls {@code listener} with the new version each time a successful poll finds progress (on the
     * poller's thread, so it must not block).
     */
    public void onChange(LongConsumer listener) {
        listeners.add(listener);
    }

    /** The current version: equal versions mean no speed row changed in between (as of the last poll). */
    public long version() {
        return version.get();
    }

    /**
     * Whether the version can be trusted now: the last successful poll started less than three
     * intervals ago. When polls fail or stall, callers must not serve cached answers.
     */
    public boolean current() {
        long last = lastGoodPollStart;
        return last != Long.MIN_VALUE && System.nanoTime() - last < 3 * intervalNanos;
    }

    /**
     * Polls now, on the poller's thread as a scheduled poll would, and returns once it is done: for
     * tests, which cannot wait on a schedule that a busy machine may delay past {@link #current()}.
     */
    void pollNow() throws InterruptedException {
        try {
            poller.submit(this::poll).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("a poll cannot fail: it catches everything", e);
        }
    }

    private void poll() {
        long started = System.nanoTime();
        try {
            List<SpeedPartitionStatus> partitions = rows.speedPartitions().toCompletableFuture().get(5, TimeUnit.SECONDS);
            Set<SpeedPartitionStatus> now = Set.copyOf(partitions);
            boolean moved = !now.equals(last);
            long changed = 0;
            if (moved) {
                last = now;
                changed = version.incrementAndGet();
            }
            // after the version: a caller that finds this poll current then reads its version or a newer one
            lastGoodPollStart = started;
            if (moved) {
                for (var listener : listeners) {
                    try {
                        listener.accept(changed);
                    } catch (RuntimeException e) {
                        LOG.warn("speed progress listener failed", e);
                    }
                }
            }
        } catch (Throwable e) { // nothing may end the schedule: a silent stop would freeze the version
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            last = null;
            version.incrementAndGet();
            LOG.debug("speed progress poll failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
