package dev.lambda.speed.topology;

import dev.lambda.common.metric.Aggregate;
import java.util.Objects;

/**
 * The value of one speed aggregate: the metrics so far, the ingest time of the newest event folded
 * in (what freshness is measured from) and the input position after it (the next offset of the
 * partition; -1 where not known: a store of an earlier release, or a coarser level's sum). The
 * value stays as it is from that position until the next event of the aggregate.
 */
public record SlotAggregate(Aggregate aggregate, long latestIngest, long position) {

    public SlotAggregate {
        Objects.requireNonNull(aggregate, "aggregate");
    }
}
