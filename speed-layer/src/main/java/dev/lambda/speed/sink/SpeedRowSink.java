package dev.lambda.speed.sink;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Where flushed speed aggregates go (Cassandra's {@code speed_rows_by_slot} in production). The one side
 * effect of the topology, behind an interface so the topology stays pure.
 *
 * <p>Every write carries a write time (microseconds) that grows with the input partition's
 * position the rows reflect; the store keeps, of two writes of a row, the one with the later write
 * time, whatever order they arrive in. So a process still writing after it lost the partition (it
 * was fenced, or cut off from Kafka but not from the store) cannot replace the new owner's values.
 */
public interface SpeedRowSink {

    /**
     * One row to upsert, with the view it belongs to. Its distinct-count sketches are the layer's
     * own, which go on changing once the call that handed the row over returns: a sink reads (encodes)
     * them during that call and keeps no reference to them (a sink that keeps or combines rows copies
     * the sketches first); the rows it gives back unwritten only name which ones were not stored.
     */
    record Write(ViewDefinition view, SpeedRow row) {
    }

    /**
     * Writes every row with {@code writeTime}, retrying failures; returns when all are stored. A
     * store that stays down is waited for only so long: then the rows not stored are given back
     * ({@link RowsNotWrittenException#unwritten()}, the very instances handed in; the others are
     * stored), and the caller writes their aggregates again at its next flush, so a row is never skipped, and a stream
     * thread gets to poll Kafka in between and keeps its partitions.
     * Interrupting the calling thread abandons the flush the same way.
     *
     * @return nanoseconds the attempt that succeeded took: the writing, without the waits for a
     *         store that was down (the caller paces its flushes by the work they cost)
     */
    long writeAll(List<Write> rows, long writeTime) throws InterruptedException, RowsNotWrittenException;

    /**
     * One try at writing every row with {@code writeTime}, for a task that is stopping and cannot
     * wait out an outage: returns whether all of them were stored by {@code deadlineNanos}
     * ({@link System#nanoTime()}).
     * (Rows it could not store are written when the partition's task next starts: a starting task
     * writes every aggregate it holds.)
     */
    default boolean tryWriteAll(List<Write> rows, long writeTime, long deadlineNanos) throws InterruptedException {
        try {
            writeAll(rows, writeTime);
            return true;
        } catch (RowsNotWrittenException e) {
            return false;
        }
    }

    /**
     * Where one input partition stands after a flush: every record before {@code nextOffset} is in the
     * rows written; duplicates and dead letters of that partition so far.
     *
     * @param newestIngest {@code null} before the first record
     */
    record Progress(int partition, long nextOffset, Instant newestIngest, long duplicatesDropped, Map<String, Long> deadLetters) {
        public Progress {
            deadLetters = Map.copyOf(deadLetters);
        }
    }

    /**
     * Records the slot width and TTL a partition's rows are written with, and {@code newestIngest},
     * the newest ingest among the rows about to be written: before a task's first rows, and before
     * any rows that reach a slot past the one recorded last. A batch choosing its cutoff meanwhile
     * must see how far rows of that width reach, or it could cut through one of their slots (the
     * progress written after each flush records the same). Returns whether it was stored; the
     * caller writes none of those rows until it was. Like {@link #writeAll}, it waits for a store
     * that is down only so long, and not at all while another write is finding out whether it is
     * back.
     */
    default boolean recordSlotWidth(int partition, Instant newestIngest, long writeTime) throws InterruptedException {
        return true;
    }

    /**
     * {@link #recordSlotWidth}, tried once, whatever the store did before, giving up at
     * {@code deadlineNanos} ({@link System#nanoTime()}): for a stopping instance, as
     * {@link #tryWriteAll}.
     */
    default boolean tryRecordSlotWidth(int partition, Instant newestIngest, long writeTime, long deadlineNanos)
            throws InterruptedException {
        return recordSlotWidth(partition, newestIngest, writeTime);
    }

    /**
     * Records a partition's progress for status pages, with {@code writeTime} as for rows. Best
     * effort: returns whether it was stored (the caller tries again after its next flush); rows
     * never depend on it.
     */
    default boolean writeProgress(Progress progress, long writeTime) throws InterruptedException {
        return true;
    }

    /**
     * Records the view versions a partition's rows are written for, each with a time no record
     * left out of its rows of that version was ingested after: what a batch publish of a version
     * waits for. A later call, by this task or a later owner of the partition, replaces an earlier
     * one. Best effort, as {@link #writeProgress}: returns whether it was stored.
     */
    default boolean recordViewVersions(int partition, Map<String, Instant> viewVersions) throws InterruptedException {
        return true;
    }
}
