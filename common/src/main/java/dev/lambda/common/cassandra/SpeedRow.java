package dev.lambda.common.cassandra;

import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One speed-layer aggregate: the absolute value of a view's metrics over the events of one source
 * partition ingested in one slot, for (level, bucket, dims). Rewriting it with the same value is
 * harmless, which is what makes a replay after a crash safe.
 *
 * @param latestIngest ingest time of the newest event folded in (freshness)
 */
public record SpeedRow(Granularity level, Instant bucket, List<String> dims, Instant slot, int sourcePartition,
                       Aggregate aggregate, Instant latestIngest) {

    public SpeedRow {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(aggregate, "aggregate");
        Objects.requireNonNull(latestIngest, "latestIngest");
        dims = List.copyOf(dims);
        if (!level.isBoundary(bucket)) {
            throw new IllegalArgumentException(bucket + " is not a " + level.id() + " bucket");
        }
        if (sourcePartition < 0) {
            throw new IllegalArgumentException("source partition must not be negative: " + sourcePartition);
        }
    }

    public Instant period() {
        return level.periodOf(bucket);
    }
}
