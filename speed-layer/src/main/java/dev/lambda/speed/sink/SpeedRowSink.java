package dev.lambda.speed.sink;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Where flushed speed aggregates go (Cassandra's {@code speed_rows} in production). The one side
 * effect of the topology, behind an interface so the topology stays pure.
 */
public interface SpeedRowSink {

    /** One row to upsert, with the view it belongs to. */
    record Write(ViewDefinition view, SpeedRow row) {
    }

    /**
     * Writes every row, retrying failures; returns when all are stored. A store that stays down is
     * waited for only so long: then the rows are given back ({@link RowsNotWrittenException}) for
     * the caller to write at its next flush, so a row is never skipped, and a stream thread gets
     * to poll Kafka in between and keeps its partitions. Interrupting the calling thread abandons
     * the flush the same way.
     *
     * @return nanoseconds the attempt that succeeded took: the writing, without the waits for a
     *         store that was down (the caller paces its flushes by the work they cost)
     */
    long writeAll(List<Write> rows) throws InterruptedException, RowsNotWrittenException;

    /**
     * One try at writing every row, for a task that is stopping and cannot wait out an outage:
     * returns whether all of them were stored by {@code deadlineNanos} ({@link System#nanoTime()}).
     * (Rows it could not store are written when the partition's task next starts: a starting task
     * writes every aggregate it holds.)
     */
    default boolean tryWriteAll(List<Write> rows, long deadlineNanos) throws InterruptedException {
        try {
            writeAll(rows);
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
     * Records a partition's progress for status pages. Best effort: returns whether it was stored
     * (the caller tries again after its next flush); rows never depend on it.
     */
    default boolean writeProgress(Progress progress) throws InterruptedException {
        return true;
    }
}
