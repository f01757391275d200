package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.store.CachedBatchRows;
import dev.lambda.serving.store.ViewRows;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CachedBatchRowsTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private static final Instant P = Instant.parse("2026-11-21T00:00:00Z");

    private final AtomicInteger reads = new AtomicInteger();
    private boolean failing;

    private final ViewRows store = new ViewRows() {
        @Override
        public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long generation, Granularity level, Instant period) {
            reads.incrementAndGet();
            if (failing) {
                return CompletableFuture.failedFuture(new IllegalStateException("down"));
            }
            List<BatchRow> rows = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                rows.add(new BatchRow(generation, level, period, List.of("p" + i, ""), Aggregate.zero(view)));
            }
            return CompletableFuture.completedFuture(rows);
        }

        @Override
        public CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public boolean reachable() {
            return true;
        }
    };

    @Test
    void aGenerationsPartitionIsReadOnceAndANewGenerationReadsAgain() {
        CachedBatchRows cache = new CachedBatchRows(store, 1_000);
        assertEquals(10, cache.batchRows(SALES, 1, Granularity.DAY, P).toCompletableFuture().join().size());
        cache.batchRows(SALES, 1, Granularity.DAY, P).toCompletableFuture().join();
        assertEquals(1, reads.get());
        cache.batchRows(SALES, 2, Granularity.DAY, P).toCompletableFuture().join();
        assertEquals(2, reads.get());
    }

    @Test
    void theRowBudgetEvictsTheLeastRecentlyUsedAndFailuresAreNotCached() {
        CachedBatchRows cache = new CachedBatchRows(store, 20);
        for (long g = 1; g <= 3; g++) {
            cache.batchRows(SALES, g, Granularity.DAY, P).toCompletableFuture().join();
        }
        cache.batchRows(SALES, 3, Granularity.DAY, P).toCompletableFuture().join();
        assertEquals(3, reads.get(), "the newest stays");
        cache.batchRows(SALES, 1, Granularity.DAY, P).toCompletableFuture().join();
        assertEquals(4, reads.get(), "the oldest was evicted");
        failing = true;
        assertThrows(RuntimeException.class, () -> cache.batchRows(SALES, 9, Granularity.DAY, P).toCompletableFuture().join());
        failing = false;
        assertEquals(10, cache.batchRows(SALES, 9, Granularity.DAY, P).toCompletableFuture().join().size());
    }
}
