package dev.lambda.speed.topology;

import dev.lambda.common.time.Granularity;
import java.util.List;
import java.util.Objects;

/**
 * The key of one speed aggregate in a task's state store: (view version, level, bucket, dims,
 * ingest slot). The source partition is implicit: each task (one input partition) has its own store.
 */
public record AggregateKey(String view, String version, Granularity level, long bucket, List<String> dims, long slot) {

    public AggregateKey {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(level, "level");
        dims = List.copyOf(dims);
    }
}
