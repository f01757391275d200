package dev.lambda.speed.sink;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.view.ViewDefinition;
import java.util.List;

/**
 * Where flushed speed aggregates go (Cassandra's {@code speed_rows} in production). The one side
 * effect of the topology, behind an interface so the topology stays pure.
 */
public interface SpeedRowSink {

    /** One row to upsert, with the view it belongs to. */
    record Write(ViewDefinition view, SpeedRow row) {
    }

    /**
     * Writes every row and returns only when all are stored, retrying failures: a row is never
     * skipped. Interrupting the calling thread abandons the flush (the rows stay dirty).
     */
    void writeAll(List<Write> rows) throws InterruptedException;
}
