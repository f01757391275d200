package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CachedBatchRowsTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private static final Instant P = Instant.parse("2026-11-21T00:00:00Z");

    private static final Duration TTL = Duration.ofSeconds(1);

    private final AtomicInteger reads = new AtomicInteger();
    private boolean failing;
    /** Whether the store's call itself throws, rather than failing the answer it returns. */
    private boolean throwing;
    /** The state reads asked of the store, in order; each answers when the test completes it. */
    private final List<CompletableFuture<Optional<ViewState>>> stateReads = new ArrayList<>();
    private final AtomicLong nanos = new AtomicLong();

    private final ViewRows store = new ViewRows() {
        @Override
        public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
            CompletableFuture<Optional<ViewState>> read = new CompletableFuture<>();
            stateReads.add(read);
            return read;
        }

        @Override
        public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long generation, Granularity level, Instant period) {
            reads.incrementAndGet();
            if (throwing) {
                throw new IllegalStateException("no session");
            }
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

    @Test
    void aStoreCallThatThrowsFailsTheReadInsteadOfLeavingItPendingForTheNextQuery() {
        CachedBatchRows cache = new CachedBatchRows(store, 1_000);
        throwing = true;
        assertThrows(CompletionException.class, () -> cache.batchRows(SALES, 1, Granularity.DAY, P).toCompletableFuture().join());
        throwing = false;
        assertEquals(10, cache.batchRows(SALES, 1, Granularity.DAY, P).toCompletableFuture().getNow(List.of()).size(),
                "read again at once, not waiting on the first read");
    }

    @Test
    void thePublishedStateIsReusedForItsTimeToLiveThenRefreshedBehindTheScenes() {
        CachedBatchRows cache = new CachedBatchRows(store, 1_000, TTL, nanos::get);
        CompletableFuture<Optional<ViewState>> first = state(cache);
        assertEquals(first, state(cache), "a second query waits on the first read rather than starting another");
        publish(0, 1);
        assertEquals(1, generation(state(cache)));
        atTenthsOfTtl(11);
        assertEquals(1, generation(state(cache)), "expired but recent: answered with the old state while it is refreshed");
        assertEquals(2, stateReads.size());
        publish(1, 7);
        assertEquals(7, generation(state(cache)), "the refresh landed");
        atTenthsOfTtl(32);
        CompletableFuture<Optional<ViewState>> blocked = state(cache);
        assertEquals(3, stateReads.size());
        publish(2, 8);
        assertEquals(8, generation(blocked), "older than two TTLs: read again before answering");
    }

    @Test
    void refreshesSlowerThanTheTimeToLiveGoOneAtATimeAndLand() {
        CachedBatchRows cache = readOnceThenExpired();
        assertEquals(1, generation(state(cache)), "answered with the old state while a refresh begins");
        atTenthsOfTtl(19);
        assertEquals(1, generation(state(cache)));
        assertEquals(2, stateReads.size(), "one refresh under way at a time");
        atTenthsOfTtl(23);
        CompletableFuture<Optional<ViewState>> waiting = state(cache);
        CompletableFuture<Optional<ViewState>> alsoWaiting = state(cache);
        assertFalse(waiting.isDone(), "older than two TTLs: the query waits");
        assertEquals(2, stateReads.size(), "on the refresh under way, not on a read of its own");
        publish(1, 7);
        assertEquals(7, generation(waiting), "the refresh slower than the TTL landed");
        assertEquals(7, generation(alsoWaiting));
        assertEquals(7, generation(state(cache)));
        assertEquals(3, stateReads.size(), "its age counts from when it began (1.1 TTLs): it is due a refresh of its own");
    }

    @Test
    void aFailedRefreshKeepsTheOldStateForTwoTimeToLivesAndTriesAgain() {
        CachedBatchRows cache = readOnceThenExpired();
        state(cache);
        stateReads.get(1).completeExceptionally(new IllegalStateException("timed out"));
        assertEquals(1, generation(state(cache)), "still within two TTLs");
        assertEquals(3, stateReads.size(), "and tried again");
        stateReads.get(2).completeExceptionally(new IllegalStateException("timed out"));
        atTenthsOfTtl(21);
        CompletableFuture<Optional<ViewState>> failing = state(cache);
        stateReads.get(3).completeExceptionally(new IllegalStateException("timed out"));
        assertThrows(CompletionException.class, failing::join, "older than two TTLs: the failure reaches the query");
    }

    private static CompletableFuture<Optional<ViewState>> state(CachedBatchRows cache) {
        return cache.publishedState(SALES).toCompletableFuture();
    }

    /** Sets the clock to {@code tenths} tenths of the TTL after the start. */
    private void atTenthsOfTtl(int tenths) {
        nanos.set(TTL.multipliedBy(tenths).dividedBy(10).toNanos());
    }

    /** A cache whose first read found generation 1, 1.1 TTLs ago: expired, but recent. */
    private CachedBatchRows readOnceThenExpired() {
        CachedBatchRows cache = new CachedBatchRows(store, 1_000, TTL, nanos::get);
        state(cache);
        publish(0, 1);
        atTenthsOfTtl(11);
        return cache;
    }

    /** Completes the {@code read}th state read with a state of {@code generation}. */
    private void publish(int read, long generation) {
        stateReads.get(read).complete(Optional.of(new ViewState(SALES.name(), SALES.version(), generation, P, P, P, 2, 0, 2, 1,
                null, null)));
    }

    private static long generation(CompletableFuture<Optional<ViewState>> state) {
        return state.getNow(Optional.empty()).orElseThrow().generation();
    }
}
