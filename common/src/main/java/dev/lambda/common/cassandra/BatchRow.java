package dev.lambda.common.cassandra;

import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One aggregate of a batch generation: a view's metrics for (level, bucket, dims).
 *
 * @param dims dimension values in the view's dimension order, "" where an event lacked one
 */
public record BatchRow(long generation, Granularity level, Instant bucket, List<String> dims, Aggregate aggregate) {

    public BatchRow {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(aggregate, "aggregate");
        dims = List.copyOf(dims);
        if (!level.isBoundary(bucket)) {
            throw new IllegalArgumentException(bucket + " is not a " + level.id() + " bucket");
        }
    }

    /** The partition period the row is stored under. */
    public Instant period() {
        return level.periodOf(bucket);
    }
}
