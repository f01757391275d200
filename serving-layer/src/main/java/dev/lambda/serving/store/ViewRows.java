package dev.lambda.serving.store;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** What the serving layer reads: the published state, and batch and speed rows by partition. */
public interface ViewRows {

    CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view);

    CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long generation, Granularity level, Instant period);

    /** The speed rows of a partition whose slot is at or after {@code fromSlot} (all if {@code null}). */
    CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot);

    /** The newest ingest time among a partition's speed rows, or empty if it has none. */
    default CompletionStage<Optional<Instant>> newestSpeedIngest(ViewDefinition view, Granularity level, Instant period) {
        return speedRows(view, level, period, null).thenApply(rows -> rows.stream().map(SpeedRow::latestIngest).max(Instant::compareTo));
    }

    /** Whether the store answers at all (readiness). */
    boolean reachable();

    /** Where each speed-layer partition stands (for status pages); none by default. */
    default CompletionStage<List<SpeedPartitionStatus>> speedPartitions() {
        return CompletableFuture.completedFuture(List.of());
    }
}
