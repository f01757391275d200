package dev.lambda.speed.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** While Cassandra is down, which flush may try it: one at a time, at most once per growing back-off. */
class CassandraOutageTest {

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final CassandraOutage outage = new CassandraOutage(clock::get);

    private void advanceMillis(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** Milliseconds from now until a probe is allowed, to the millisecond; the probe is taken and ended. */
    private long millisUntilNextProbe() {
        long waited = 0;
        while (!outage.probeDue()) {
            assertTrue(waited < 60_000, "no probe allowed within a minute");
            advanceMillis(1);
            waited++;
        }
        outage.probeEnded();
        return waited;
    }

    @Test
    void upUntilAWriteGivesUp() {
        assertFalse(outage.isDown());
        outage.markDown();
        assertTrue(outage.isDown());
    }

    @Test
    void theFirstTryWaitsABackOffAndOnlyOneWriteTriesAtATime() {
        outage.markDown();
        assertFalse(outage.probeDue(), "not at once");
        advanceMillis(99);
        assertFalse(outage.probeDue());
        advanceMillis(1);
        assertTrue(outage.probeDue(), "after 100 ms");
        advanceMillis(60_000);
        assertFalse(outage.probeDue(), "another write is trying it, however long it takes");
        outage.probeEnded();
        assertFalse(outage.probeDue(), "a try that lasted (a Cassandra that hangs) is followed by the back-off all the same");
        advanceMillis(100);
        assertTrue(outage.probeDue(), "100 ms after it ended");
        outage.probeEnded();
    }

    @Test
    void theBackOffDoublesWhileTriesFailUpToFiveSeconds() {
        outage.markDown();
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            waits.add(millisUntilNextProbe());
        }
        assertEquals(List.of(100L, 100L, 200L, 400L, 800L, 1_600L, 3_200L, 5_000L, 5_000L), waits);
        assertTrue(outage.isDown(), "a probe does not say whether Cassandra is up: its write does");
    }

    @Test
    void upAgainTheBackOffStartsOverAtTheNextOutage() {
        outage.markDown();
        for (int i = 0; i < 6; i++) {
            millisUntilNextProbe();
        }
        assertTrue(outage.markUp(), "it was down");
        assertFalse(outage.isDown());
        assertFalse(outage.markUp(), "already up");
        outage.markDown();
        assertEquals(100, millisUntilNextProbe());
    }

    @Test
    void anotherWriteGivingUpWhileDownDoesNotPutTheNextTryOff() {
        outage.markDown();
        advanceMillis(90);
        outage.markDown();
        advanceMillis(10);
        assertTrue(outage.probeDue(), "100 ms after the first, not the second");
        outage.probeEnded();
    }

    @Test
    void aSmallWriteCassandraAnsweredLetsTheRowsTryAtOnceButLeavesItDown() {
        outage.markDown();
        advanceMillis(100);
        assertTrue(outage.probeDue(), "a slot width or progress write tries it");
        outage.probeAnswered();
        assertTrue(outage.isDown(), "a small write says nothing of the rows' batches");
        assertTrue(outage.probeDue(), "the next write (rows) may try it at once");
        outage.probeEnded();
        assertFalse(outage.probeDue(), "they failed: the back-off goes on");
        assertEquals(200, millisUntilNextProbe(), "the back-off doubled by the two tries: 100 ms, then 200 ms");
    }
}
