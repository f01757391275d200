package dev.lambda.batch.recompute;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a generation's record in {@code batch_generations} fresh while its rows are written. Other
 * runs' cleanups drop an unpublished generation whose record is older than {@code --grace}: without
 * renewals, a view whose write outlasts the grace could lose rows to one, and a run of a newer views
 * file would then publish what is left. The record is written again every quarter of the grace (at
 * most every minute) and once more after the rows (best effort), so that its write time follows
 * theirs; right before publishing, the run checks that the record never went unrenewed for the
 * grace less two such intervals (one for clocks of other hosts that run ahead, one for the publish
 * to land), and fails otherwise. Every run is expected to be given the same grace (README,
 * Schedule).
 */
final class GenerationLease implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GenerationLease.class);
    private static final Duration MAX_INTERVAL = Duration.ofMinutes(1);

    /** Writes the generation's record with {@code writtenAt}. */
    interface Recorder {
        CompletionStage<Void> record(Instant writtenAt);
    }

    private final Recorder recorder;
    private final Duration grace;
    private final Clock clock;
    private final String name;
    private ScheduledExecutorService renewals;
    private Instant lastRecorded;
    private Duration longestGap = Duration.ZERO;

    /** Records the generation once, waiting for the write; renew() keeps it fresh from then on. */
    GenerationLease(Recorder recorder, Duration grace, Clock clock, String name) {
        this.recorder = recorder;
        this.grace = grace;
        this.clock = clock;
        this.name = name;
        Instant now = clock.instant();
        recorder.record(now).toCompletableFuture().join();
        this.lastRecorded = now;
    }

    /**
     * A lease renewed in the background until closed. With no grace at all ({@code --grace 0s}: drop
     * every unpublished generation at once, for a run with no other beside it) there is nothing to
     * renew against.
     */
    static GenerationLease hold(Recorder recorder, Duration grace, String name) {
        GenerationLease lease = new GenerationLease(recorder, grace, Clock.systemUTC(), name);
        if (grace.isZero()) {
            return lease;
        }
        long every = interval(grace).toMillis();
        lease.renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "generation-lease");
            t.setDaemon(true);
            return t;
        });
        lease.renewals.scheduleWithFixedDelay(lease::renew, every, every, TimeUnit.MILLISECONDS);
        return lease;
    }

    /** How often the record is renewed: a quarter of the grace, at most a minute; never without a grace. */
    static Duration interval(Duration grace) {
        if (grace.isZero()) {
            return Duration.ZERO;
        }
        Duration quarter = grace.dividedBy(4);
        return quarter.compareTo(MAX_INTERVAL) > 0 ? MAX_INTERVAL : quarter;
    }

    /** Writes the record again; a failed write is logged, and the next renewal tries again. */
    void renew() {
        Instant at = clock.instant();
        try {
            recorder.record(at).toCompletableFuture().join();
        } catch (RuntimeException e) {
            LOG.warn("could not renew the record of generation {} (retried in {}): {}", name, interval(grace), e.toString());
            return;
        }
        Instant landed = clock.instant(); // the record held the previous time until this write landed, no later than now
        synchronized (this) {
            Duration gap = Duration.between(lastRecorded, landed);
            if (gap.compareTo(longestGap) > 0) {
                longestGap = gap;
            }
            if (at.isAfter(lastRecorded)) {
                lastRecorded = at;
            }
        }
    }

    /**
     * Called once the rows are written: writes the record once more (best effort), its write time
     * after every row's, so that if a cleanup forgot it meanwhile a later one finds the rows written
     * since; then fails unless the record was never near the grace's age: another run's cleanup may
     * otherwise have dropped rows of this generation, which must then not be published.
     */
    synchronized void requireHeld() {
        if (grace.isZero()) {
            return;
        }
        renew();
        Duration sinceLast = Duration.between(lastRecorded, clock.instant());
        Duration worst = sinceLast.compareTo(longestGap) > 0 ? sinceLast : longestGap;
        Duration limit = grace.minus(interval(grace).multipliedBy(2));
        if (worst.compareTo(limit) >= 0) {
            throw new IllegalStateException("the record of generation " + name + " went " + worst + " without being renewed, not"
                    + " shorter than " + limit + " (--grace " + grace + " less two renewal intervals; Cassandra unreachable, or this"
                    + " process stalled): another run's cleanup may have dropped some of its rows, so it is not published; run the"
                    + " recompute again");
        }
    }

    @Override
    public void close() {
        if (renewals != null) {
            renewals.shutdownNow();
            try {
                renewals.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
