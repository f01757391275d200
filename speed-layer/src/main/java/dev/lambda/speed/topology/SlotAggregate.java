package dev.lambda.speed.topology;

import dev.lambda.common.metric.Aggregate;
import java.util.Objects;

/**
 * The value of one speed aggregate: the metrics so far and the ingest time of the newest event
 * folded in (what freshness is measured from).
 */
public record SlotAggregate(Aggregate aggregate, long latestIngest) {

    public SlotAggregate {
        Objects.requireNonNull(aggregate, "aggregate");
    }
}
