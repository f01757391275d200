package dev.lambda.speed.sink;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether Cassandra is down for a process's speed-row writes, and which write may try it meanwhile:
 * one at a time, each a back-off after the last one began and after it ended, the back-off doubling
 * from 100 ms to 5 s while the tries fail and starting from 100 ms again once Cassandra is up. One
 * per process, shared by every task, so that while Cassandra is down a stream thread with many tasks
 * is not held for each in turn: a Cassandra that hangs rather than refuses makes each try last its
 * full timeout, and the flushes in between give their rows back at once.
 */
final class CassandraOutage {

    static final long FIRST_BACKOFF_MILLIS = 100;
    static final long MAX_BACKOFF_MILLIS = 5_000;

    private final LongSupplier nanoTime;
    private volatile boolean down;
    private long nextProbeAt;
    /** Whether a write is trying Cassandra while it is down. */
    private boolean probing;
    private long backoffMillis = FIRST_BACKOFF_MILLIS;
    /** The back-off the try under way was allowed after: the next one waits as long after it ends. */
    private long probeBackoffMillis = FIRST_BACKOFF_MILLIS;

    CassandraOutage() {
        this(System::nanoTime);
    }

    CassandraOutage(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    boolean isDown() {
        return down;
    }

    /**
     * Whether the caller may try Cassandra while it is down: when the back-off allows and no other
     * caller is trying it. A caller told yes calls {@link #probeEnded} when done.
     */
    synchronized boolean probeDue() {
        long now = nanoTime.getAsLong();
        if (probing || now - nextProbeAt < 0) {
            return false;
        }
        probing = true;
        nextProbeAt = now + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
        probeBackoffMillis = backoffMillis;
        backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
        return true;
    }

    synchronized void probeEnded() {
        probing = false;
        long afterEnd = nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(probeBackoffMillis);
        if (afterEnd - nextProbeAt > 0) {
            nextProbeAt = afterEnd;
        }
    }

    /**
     * A probe that was a small write other than rows (progress, a slot width, view versions) ended
     * with Cassandra answering: that does not say the rows' batches go through, so the store stays
     * down, but the next probe may go at once (the rows of the flush that wrote a slot width, say,
     * or of whichever flush asks first) rather than after the back-off.
     */
    synchronized void probeAnswered() {
        probing = false;
        nextProbeAt = nanoTime.getAsLong();
    }

    /** A write that says Cassandra takes rows again went through. @return whether it was down until now */
    synchronized boolean markUp() {
        boolean wasDown = down;
        down = false;
        backoffMillis = FIRST_BACKOFF_MILLIS;
        return wasDown;
    }

    /** A write failed for longer than it could wait: the first try after it waits a back-off. */
    synchronized void markDown() {
        if (!down) {
            down = true;
            nextProbeAt = nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
        }
    }
}
