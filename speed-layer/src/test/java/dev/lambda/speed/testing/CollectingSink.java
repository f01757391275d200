package dev.lambda.speed.testing;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.speed.sink.SpeedRowSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** An in-memory sink with upsert semantics: the last write of a row key wins, as in speed_rows. */
public final class CollectingSink implements SpeedRowSink {

    public record RowKey(String view, String level, long bucket, List<String> dims, long slot, int partition) {
    }

    private final Map<RowKey, Write> rows = new ConcurrentHashMap<>();
    private final List<Integer> flushSizes = new ArrayList<>();
    private final Map<Integer, Progress> progress = new ConcurrentHashMap<>();

    @Override
    public synchronized long writeAll(List<Write> writes) {
        long began = System.nanoTime();
        for (Write w : writes) {
            SpeedRow r = w.row();
            rows.put(new RowKey(w.view().name(), r.level().id(), r.bucket().toEpochMilli(), r.dims(), r.slot().toEpochMilli(),
                    r.sourcePartition()), w);
        }
        flushSizes.add(writes.size());
        return System.nanoTime() - began;
    }

    @Override
    public boolean writeProgress(Progress p) {
        progress.put(p.partition(), p);
        return true;
    }

    /** The last progress recorded for a partition, or {@code null}. */
    public Progress progress(int partition) {
        return progress.get(partition);
    }

    public synchronized Map<RowKey, Write> rows() {
        return Map.copyOf(rows);
    }

    public synchronized List<Integer> flushSizes() {
        return List.copyOf(flushSizes);
    }
}
