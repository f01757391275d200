package dev.lambda.speed.testing;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.speed.sink.SpeedRowSink;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An in-memory sink that keeps rows as {@code speed_rows_by_slot} does: of two writes of a row, the one with
 * the later write time stays, whatever order they arrive in. Two writes of a row with the same
 * write time must carry the same value (Cassandra would keep either), so a different one fails the
 * test at once.
 */
public final class CollectingSink implements SpeedRowSink {

    public record RowKey(String view, String level, long bucket, List<String> dims, long slot, int partition) {
    }

    private record Stored(Write write, long writeTime) {
    }

    private final Map<RowKey, Stored> rows = new HashMap<>();
    private final List<Integer> flushSizes = new ArrayList<>();
    private final List<Long> writeTimes = new ArrayList<>();
    private final Map<Integer, Progress> progress = new HashMap<>();
    private final Map<Integer, Long> progressWriteTimes = new HashMap<>();
    private final Map<Integer, Map<String, Instant>> viewVersions = new HashMap<>();
    private int progressWritesToRefuse;

    @Override
    public synchronized long writeAll(List<Write> writes, long writeTime) {
        long began = System.nanoTime();
        for (Write w : writes) {
            SpeedRow r = w.row();
            RowKey key = new RowKey(w.view().name(), r.level().id(), r.bucket().toEpochMilli(), r.dims(), r.slot().toEpochMilli(),
                    r.sourcePartition());
            Stored before = rows.get(key);
            if (before != null && before.writeTime() == writeTime && !sameValue(before.write(), w)) {
                throw new AssertionError("two different values of " + key + " written with the same write time " + writeTime);
            }
            if (before == null || before.writeTime() < writeTime) {
                rows.put(key, new Stored(copy(w), writeTime));
            }
        }
        flushSizes.add(writes.size());
        writeTimes.add(writeTime);
        return System.nanoTime() - began;
    }

    /** The row with copies of its sketches: the layer's own go on changing after the call (as Cassandra's copy would not). */
    private static Write copy(Write w) {
        SpeedRow r = w.row();
        List<MetricValue> values = r.aggregate().values().stream()
                .map(v -> v instanceof MetricValue.Distinct d ? new MetricValue.Distinct(d.sketch().copy()) : v)
                .toList();
        return new Write(w.view(), new SpeedRow(r.level(), r.bucket(), r.dims(), r.slot(), r.sourcePartition(), new Aggregate(values),
                r.latestIngest()));
    }

    /** Equal metric values (a sketch built in one pass and one built by unions differ in bytes, not in what they read). */
    private static boolean sameValue(Write a, Write b) {
        Aggregate x = a.row().aggregate();
        Aggregate y = b.row().aggregate();
        for (int i = 0; i < a.view().metrics().size(); i++) {
            if (!Objects.equals(x.get(i).read(), y.get(i).read())) {
                return false;
            }
        }
        return Objects.equals(a.row().latestIngest(), b.row().latestIngest());
    }

    /** The next {@code n} progress writes fail, as they would with Cassandra timing out. */
    public synchronized void refuseProgressWrites(int n) {
        progressWritesToRefuse = n;
    }

    @Override
    public synchronized boolean writeProgress(Progress p, long writeTime) {
        if (progressWritesToRefuse > 0) {
            progressWritesToRefuse--;
            return false;
        }
        if (progressWriteTimes.getOrDefault(p.partition(), Long.MIN_VALUE) < writeTime) {
            progress.put(p.partition(), p);
            progressWriteTimes.put(p.partition(), writeTime);
        }
        return true;
    }

    @Override
    public synchronized boolean recordViewVersions(int partition, Map<String, Instant> versions) {
        viewVersions.put(partition, Map.copyOf(versions));
        return true;
    }

    /** Forgets the view versions recorded, so that a test sees whether they are recorded again. */
    public synchronized void forgetViewVersions() {
        viewVersions.clear();
    }

    /** The view versions last recorded for a partition, or {@code null}. */
    public synchronized Map<String, Instant> viewVersions(int partition) {
        return viewVersions.get(partition);
    }

    /** The progress of a partition that stayed (the latest write time), or {@code null}. */
    public synchronized Progress progress(int partition) {
        return progress.get(partition);
    }

    /** The rows that stayed. */
    public synchronized Map<RowKey, Write> rows() {
        Map<RowKey, Write> copy = new HashMap<>();
        rows.forEach((k, v) -> copy.put(k, v.write()));
        return Map.copyOf(copy);
    }

    public synchronized List<Integer> flushSizes() {
        return List.copyOf(flushSizes);
    }

    /** The write time of every flush, in call order. */
    public synchronized List<Long> writeTimes() {
        return List.copyOf(writeTimes);
    }
}
