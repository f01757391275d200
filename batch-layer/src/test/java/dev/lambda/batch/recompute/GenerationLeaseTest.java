package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** When a generation's record is renewed, and when a run must not publish because it was not. */
class GenerationLeaseTest {

    private static final Duration GRACE = Duration.ofMinutes(1);
    private static final Instant START = Instant.parse("2026-11-24T03:00:00Z");

    private final MutableClock clock = new MutableClock();
    private final List<Instant> recorded = new ArrayList<>();
    /** How long the next write takes, on the clock; failing when negative. */
    private Duration nextWrite = Duration.ZERO;

    private CompletionStage<Void> record(Instant writtenAt) {
        Duration takes = nextWrite;
        nextWrite = Duration.ZERO;
        if (takes.isNegative()) {
            return CompletableFuture.failedFuture(new IllegalStateException("Cassandra unreachable"));
        }
        clock.advance(takes);
        recorded.add(writtenAt);
        return CompletableFuture.completedFuture(null);
    }

    private GenerationLease lease() {
        return new GenerationLease(this::record, GRACE, clock, "pageviews/42");
    }

    @Test
    void theRecordIsWrittenWithTheClocksTimeAtTheStartAtEveryRenewalAndOnceMoreAfterTheRows() {
        GenerationLease lease = lease();
        for (int i = 0; i < 30; i++) {
            clock.advance(Duration.ofSeconds(15));
            lease.renew();
        }
        clock.advance(Duration.ofSeconds(3));
        assertDoesNotThrow(lease::requireHeld, "renewed every quarter of the grace for 7.5 minutes");
        assertEquals(32, recorded.size());
        for (int i = 0; i < 31; i++) {
            assertEquals(START.plusSeconds(15L * i), recorded.get(i));
        }
        assertEquals(clock.instant(), recorded.get(31), "after the rows: its write time follows theirs");
    }

    @Test
    void aFailedRenewalIsTriedAgainAndGapsShorterThanTheGraceLessTwoIntervalsAreHeld() {
        GenerationLease lease = lease();
        clock.advance(Duration.ofSeconds(10));
        nextWrite = Duration.ofSeconds(-1);
        lease.renew();
        clock.advance(Duration.ofSeconds(10));
        lease.renew();
        assertEquals(List.of(START, START.plusSeconds(20)), recorded);
        clock.advance(Duration.ofSeconds(29));
        assertDoesNotThrow(lease::requireHeld, "never older than 29 s");
    }

    /**
     * Two intervals short of the grace: a cleanup on a host whose clock runs ahead by up to one
     * still sees the record younger than the grace while the publish takes up to another.
     */
    @Test
    void aGapOfTheGraceLessTwoIntervalsFailsEvenAfterRenewalsResumed() {
        GenerationLease lease = lease();
        for (int i = 0; i < 2; i++) {
            clock.advance(Duration.ofSeconds(10));
            nextWrite = Duration.ofSeconds(-1);
            lease.renew();
        }
        clock.advance(Duration.ofSeconds(11));
        lease.renew(); // 31 s after the record
        for (int i = 0; i < 4; i++) {
            clock.advance(Duration.ofSeconds(10));
            lease.renew();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, lease::requireHeld);
        assertTrue(e.getMessage().contains("generation pageviews/42 went PT31S without being renewed, not shorter than PT30S"),
                e.getMessage());
        assertTrue(e.getMessage().contains("--grace PT1M"), e.getMessage());
        assertTrue(e.getMessage().contains("not published"), e.getMessage());
        assertEquals(clock.instant(), recorded.get(recorded.size() - 1),
                "recorded after the rows all the same: a later cleanup finds rows written since one forgot it");
    }

    @Test
    void aStallBeforeTheCheckCounts() {
        GenerationLease lease = lease();
        clock.advance(Duration.ofSeconds(15));
        lease.renew();
        clock.advance(Duration.ofSeconds(29));
        assertDoesNotThrow(lease::requireHeld);
        clock.advance(Duration.ofSeconds(30)); // stalled: no renewal for the grace less two intervals
        assertThrows(IllegalStateException.class, lease::requireHeld);
    }

    @Test
    void aStallBeforeTheCheckCountsWhenTheLastRecordFailsToo() {
        GenerationLease lease = lease();
        clock.advance(Duration.ofSeconds(15));
        lease.renew();
        clock.advance(Duration.ofSeconds(20));
        nextWrite = Duration.ofSeconds(-1);
        assertDoesNotThrow(lease::requireHeld, "20 s old: no cleanup can have taken it for abandoned");
        clock.advance(Duration.ofSeconds(10));
        nextWrite = Duration.ofSeconds(-1);
        assertThrows(IllegalStateException.class, lease::requireHeld);
    }

    @Test
    void theOldRecordHoldsUntilTheRenewalLandsNotFromWhenItWasSent() {
        GenerationLease lease = lease();
        clock.advance(Duration.ofSeconds(15));
        nextWrite = Duration.ofSeconds(16); // sent at 15 s, stamped 15 s, landed at 31 s: the record was 31 s old
        lease.renew();
        assertEquals(START.plusSeconds(15), recorded.get(1));
        assertThrows(IllegalStateException.class, lease::requireHeld);
    }

    @Test
    void noGraceMeansNothingToHold() {
        GenerationLease lease = new GenerationLease(this::record, Duration.ZERO, clock, "pageviews/42");
        clock.advance(Duration.ofHours(2));
        assertDoesNotThrow(lease::requireHeld);
    }

    @Test
    void renewalsComeEveryQuarterOfTheGraceAtMostEveryMinute() {
        assertEquals(Duration.ofMinutes(1), GenerationLease.interval(Duration.ofHours(1)));
        assertEquals(Duration.ofSeconds(30), GenerationLease.interval(Duration.ofMinutes(2)));
        assertEquals(Duration.ofMillis(250), GenerationLease.interval(Duration.ofSeconds(1)));
        assertEquals(Duration.ZERO, GenerationLease.interval(Duration.ZERO), "no grace: nothing renewed");
    }

    private static final class MutableClock extends Clock {
        private Instant now = START;

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
