package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/** The answer cache's own rules: shared computations, versions, the bounds on entries and rows, refresh only of recent keys. */
class AnswerCacheTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private static final Instant DAY = Instant.parse("2026-11-21T00:00:00Z");

    private final AtomicInteger computations = new AtomicInteger();
    /** The cache's clock: one millisecond passes at every reading, as between two requests, and more when a test says so. */
    private final AtomicLong nanos = new AtomicLong();
    private final LongSupplier ticker = () -> nanos.addAndGet(1_000_000);

    private static AnswerCache.Key key(int day) {
        Query q = new Query(SALES, DAY.plus(Duration.ofDays(day)), DAY.plus(Duration.ofDays(day + 1)), Granularity.DAY, List.of(0), List.of(),
                Map.of(), "bucket", false, 0);
        return AnswerCache.Key.of(q, 1L);
    }

    private CompletableFuture<Answer> compute(AnswerCache.Key key) {
        computations.incrementAndGet();
        return CompletableFuture.completedFuture(new Answer(null, Granularity.DAY, key.generation(), null, null, List.of()));
    }

    @Test
    void anAnswerIsComputedOncePerVersion() {
        AnswerCache cache = new AnswerCache(100, 100_000, Duration.ZERO, Duration.ofMinutes(1), Duration.ofSeconds(10), ticker);
        Answer first = cache.get(key(0), 1, () -> compute(key(0))).join();
        assertSame(first, cache.get(key(0), 1, () -> compute(key(0))).join());
        assertEquals(1, computations.get());
        cache.get(key(0), 2, () -> compute(key(0))).join();
        assertEquals(2, computations.get(), "a new speed version computes again");
    }

    @Test
    void pastTheBoundTheLeastRecentlyAskedForKeysGo() {
        AnswerCache cache = new AnswerCache(10, 100_000, Duration.ZERO, Duration.ofMinutes(1), Duration.ofSeconds(10), ticker);
        for (int day = 0; day < 10; day++) {
            cache.get(key(day), 1, () -> compute(key(0))).join();
        }
        cache.get(key(10), 1, () -> compute(key(10))).join(); // one more than the bound
        int before = computations.get();
        cache.get(key(9), 1, () -> compute(key(9))).join();
        assertEquals(before, computations.get(), "a recently asked key is still there");
        cache.get(key(0), 1, () -> compute(key(0))).join();
        assertEquals(before + 1, computations.get(), "the least recently asked key was dropped and is computed again");
    }

    private CompletableFuture<Answer> computeRows(int rows) {
        computations.incrementAndGet();
        List<Answer.Row> answerRows = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            answerRows.add(new Answer.Row(DAY, List.of("p" + i), List.of(1L)));
        }
        return CompletableFuture.completedFuture(new Answer(null, Granularity.DAY, 1L, null, null, answerRows));
    }

    /** Many large answers must not fill the heap: past the rows bound the least recently asked go, and one too large is not kept. */
    @Test
    void theAnswersKeptHoldNoMoreRowsThanTheBound() {
        AnswerCache cache = new AnswerCache(100, 100, Duration.ZERO, Duration.ofMinutes(1), Duration.ofSeconds(10), ticker);
        for (int day = 0; day < 10; day++) {
            cache.get(key(day), 1, () -> computeRows(10)).join(); // 100 rows: at the bound, all kept
        }
        int before = computations.get();
        for (int day = 0; day < 10; day++) {
            cache.get(key(day), 1, () -> computeRows(10)).join();
        }
        assertEquals(before, computations.get(), "ten answers of ten rows fit a bound of 100 rows");
        cache.get(key(10), 1, () -> computeRows(10)).join(); // 110 rows
        before = computations.get();
        cache.get(key(10), 1, () -> computeRows(10)).join();
        cache.get(key(9), 1, () -> computeRows(10)).join();
        assertEquals(before, computations.get(), "the recently asked keys are still there");
        cache.get(key(0), 1, () -> computeRows(10)).join();
        cache.get(key(1), 1, () -> computeRows(10)).join();
        assertEquals(before + 2, computations.get(), "the two least recently asked went, leaving a tenth to spare");

        cache.get(key(20), 1, () -> computeRows(11)).join();
        cache.get(key(20), 1, () -> computeRows(11)).join();
        assertEquals(before + 4, computations.get(), "an answer of more than a tenth of the bound is computed each time");
    }

    @Test
    void refreshRecomputesKeysAskedForAgainSinceTheirLastComputationOncePerVersion() {
        AnswerCache cache = new AnswerCache(100, 100_000, Duration.ofMillis(500), Duration.ofMinutes(1), Duration.ofSeconds(2), ticker);
        cache.get(key(0), 1, () -> compute(key(0))).join();
        cache.get(key(0), 1, () -> compute(key(0))).join();
        nanos.addAndGet(Duration.ofMillis(2_100).toNanos()); // past "recently"
        cache.get(key(1), 1, () -> compute(key(1))).join();
        cache.get(key(2), 1, () -> compute(key(2))).join();
        cache.get(key(2), 1, () -> compute(key(2))).join(); // asked again after its computation
        assertEquals(1, cache.refresh(2), "only key 2: key 0 was asked too long ago, key 1 not since it was computed");
        assertEquals(0, cache.refresh(2), "already at that version");
        int before = computations.get();
        cache.get(key(2), 2, () -> compute(key(2))).join();
        assertEquals(before, computations.get(), "the request finds the refreshed answer");
        assertEquals(1, cache.refresh(3), "asked again since the refresh: refreshed again");
        assertEquals(0, cache.refresh(4), "not asked since: a refresh never runs ahead of the requests it anticipates");
    }

    /**
     * A heavy query asked once must not be run again at every poll while the speed layer flushes: not
     * while a computation of it is under way, and not after one failed, until someone asks again.
     */
    @Test
    void refreshNeitherPilesUpComputationsOfASlowKeyNorRetriesAFailedOneUnasked() {
        AnswerCache cache = new AnswerCache(100, 100_000, Duration.ofMillis(500), Duration.ofMinutes(1), Duration.ofSeconds(10), ticker);
        cache.get(key(0), 1, () -> compute(key(0))).join();
        cache.get(key(0), 1, () -> compute(key(0))).join(); // asked again: worth refreshing
        CompletableFuture<Answer> slow = new CompletableFuture<>();
        cache.get(key(0), 2, () -> slow);
        cache.get(key(0), 2, () -> compute(key(0))); // asked again while it runs
        int before = computations.get();
        assertEquals(0, cache.refresh(3), "a computation of the key is under way");
        assertEquals(0, cache.refresh(4));
        assertEquals(before, computations.get());
        slow.complete(new Answer(null, Granularity.DAY, 1L, null, null, List.of()));
        assertEquals(1, cache.refresh(5), "done, and asked since it started: refreshed");

        AnswerCache.Key failing = key(1);
        cache.get(failing, 5, () -> compute(failing)).join();
        cache.get(failing, 5, () -> compute(failing)).join(); // asked again
        cache.get(failing, 6, () -> CompletableFuture.failedFuture(new IllegalStateException("timed out")));
        assertEquals(0, cache.refresh(7), "its last computation failed, and nobody asked since it started: tried again when asked");

        AnswerCache.Key never = key(2);
        CompletableFuture<Answer> first = new CompletableFuture<>();
        cache.get(never, 7, () -> first);
        cache.get(never, 7, () -> compute(never)); // a second request joins the first computation
        first.completeExceptionally(new IllegalStateException("too many rows"));
        assertEquals(0, cache.refresh(8), "never answered: only a request computes it");
    }
}
