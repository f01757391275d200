package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.store.ViewRows;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The answer path's caches: they save reads but never change an answer, and speed rows are always read fresh. */
class QueryServiceTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private static final Instant DAY = Instant.parse("2026-11-21T00:00:00Z");
    private static final Instant CUTOFF = Instant.parse("2026-11-21T12:00:00Z");
    /**
     * A poll interval no test lasts: polls happen when a test records progress. With a short one, a
     * stall of the machine longer than three intervals would make the service bypass its cache, as
     * it must, and a test counting reads would fail for that alone.
     */
    private static final Duration ONLY_WHEN_ASKED = Duration.ofMinutes(10);

    private final AtomicInteger batchReads = new AtomicInteger();
    private final AtomicInteger speedReads = new AtomicInteger();
    private final List<SpeedRow> speedRows = new CopyOnWriteArrayList<>();
    /** The first slot each speed read asked for. */
    private final Set<String> speedReadsFrom = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile List<SpeedPartitionStatus> progress = List.of();
    private volatile long generation = 1;

    private final ViewRows store = new ViewRows() {
        @Override
        public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
            return CompletableFuture.completedFuture(Optional.of(new ViewState(view.name(), view.version(), generation, CUTOFF, CUTOFF,
                    CUTOFF, 2, 0, 2, 1, null, null)));
        }

        @Override
        public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long gen, Granularity level, Instant period) {
            batchReads.incrementAndGet();
            return CompletableFuture.completedFuture(List.of(
                    new BatchRow(gen, level, level.bucketOf(DAY.plusSeconds(3600)), List.of("p1", "NP"), sale("10.00", "u1")),
                    new BatchRow(gen, level, level.bucketOf(DAY.plusSeconds(7200)), List.of("p2", "IN"), sale("2.50", "u2"))));
        }

        @Override
        public CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
            speedReads.incrementAndGet();
            speedReadsFrom.add(String.valueOf(fromSlot));
            return CompletableFuture.completedFuture(speedRows.stream()
                    .filter(r -> r.level() == level && (fromSlot == null || !r.slot().isBefore(fromSlot))).toList());
        }

        @Override
        public boolean reachable() {
            return true;
        }

        @Override
        public CompletionStage<List<SpeedPartitionStatus>> speedPartitions() {
            return CompletableFuture.completedFuture(progress);
        }
    };

    private static Aggregate sale(String amount, String user) {
        return Aggregate.zero(SALES).add(SALES, new Event("e", "purchase", DAY, Map.of("amount", amount, "user_id", user)));
    }

    private void speedSale(String amount, String user) {
        Instant ts = CUTOFF.plusSeconds(60);
        for (Granularity level : SALES.levels()) {
            speedRows.add(new SpeedRow(level, level.bucketOf(ts), List.of("p1", "NP"), CUTOFF, speedRows.size(), sale(amount, user), ts));
        }
    }

    private static Query daily(List<String> groupBy) {
        return new Query(SALES, DAY, DAY.plus(Duration.ofDays(1)), Granularity.DAY, List.of(0, 1, 4), groupBy, Map.of(), "bucket", false,
                0);
    }

    private static List<Answer.Row> rows(QueryService service, Query q) {
        return service.answer(q).join().rows();
    }

    @Test
    void aRepeatedQueryReusesItsBatchSideButSeesNewSpeedRowsAtOnce() {
        QueryService cached = new QueryService(store, new QueryPlanner(10_000, 200_000), Duration.ofSeconds(5), 1_000, null, 0, 0);
        QueryService uncached = new QueryService(store, new QueryPlanner(10_000, 200_000), Duration.ofSeconds(5), 0, null, 0, 0);
        speedSale("1.25", "u3");
        assertEquals(List.of(new Answer.Row(DAY, List.of(), List.of(3L, new java.math.BigDecimal("13.75"), 3L))), rows(cached, daily(List.of())));
        int readsAfterFirst = batchReads.get();

        speedSale("4.00", "u1"); // a new event after the cutoff
        List<Answer.Row> again = rows(cached, daily(List.of()));
        assertEquals(readsAfterFirst, batchReads.get(), "the batch side came from the cache");
        assertEquals(List.of(new Answer.Row(DAY, List.of(), List.of(4L, new java.math.BigDecimal("17.75"), 3L))), again);
        assertEquals(rows(uncached, daily(List.of())), again, "the cache never changes an answer");
        assertEquals(rows(uncached, daily(List.of("country"))), rows(cached, daily(List.of("country"))));
        assertEquals(Set.of(CUTOFF.toString()), speedReadsFrom, "speed rows are read from the published cutoff on");
    }

    @Test
    void anAnswerIsReusedUntilTheSpeedLayerReportsProgress() throws InterruptedException {
        try (SpeedChanges changes = SpeedChanges.every(store, ONLY_WHEN_ASKED)) {
            QueryService service = cachingService(changes);
            speedSale("1.25", "u3");
            recordProgress(changes, 1);
            List<Answer.Row> first = rows(service, daily(List.of()));
            int reads = speedReads.get();
            assertEquals(first, rows(service, daily(List.of())));
            assertEquals(reads, speedReads.get(), "the same question with nothing new is answered from the cache");

            List<Answer.Row> updated = List.of(new Answer.Row(DAY, List.of(), List.of(4L, new java.math.BigDecimal("17.75"), 3L)));
            speedSale("4.00", "u1"); // the speed layer flushes a row, then records its progress
            recordProgress(changes, 2);
            List<Answer.Row> during = rows(service, daily(List.of()));
            assertTrue(during.equals(first) || during.equals(updated),
                    "while the new answer is computed, the previous one (computed < 0.5 s ago) may still be served: " + during);
            assertEquals(updated, answerOnceComputed(service, updated), "then the answer includes the new row");

            Thread.sleep(QueryService.MAX_STALE.toMillis() + 100);
            speedSale("1.00", "u9");
            recordProgress(changes, 3);
            assertEquals(5L, rows(service, daily(List.of())).get(0).metrics().get(0),
                    "a previous answer older than the stale limit is not served: the request waits for the new one");
        }
    }

    @Test
    void aRecentlyAskedQueryIsRecomputedAsSoonAsTheSpeedLayerReportsProgress() throws InterruptedException {
        try (SpeedChanges changes = SpeedChanges.every(store, ONLY_WHEN_ASKED)) {
            QueryService service = cachingService(changes);
            speedSale("1.25", "u3");
            recordProgress(changes, 1);
            rows(service, daily(List.of()));
            rows(service, daily(List.of())); // asked again after its computation: a key worth keeping fresh
            int readsBefore = speedReads.get();

            speedSale("4.00", "u1");
            recordProgress(changes, 2);
            for (int i = 0; i < 200 && speedReads.get() == readsBefore; i++) {
                Thread.sleep(10);
            }
            assertTrue(speedReads.get() > readsBefore, "the speed rows were read again without any request");
            int readsAfterRefresh = readsOnceSettled();
            List<Answer.Row> updated = List.of(new Answer.Row(DAY, List.of(), List.of(4L, new java.math.BigDecimal("17.75"), 3L)));
            assertEquals(updated, answerOnceComputed(service, updated), "the next requests find the new answer");
            assertEquals(readsAfterRefresh, speedReads.get(), "and do not read again");
        }
    }

    /**
     * The daily answer once it is {@code expected}, or the last one after 5 s. A computation in flight
     * (merged on a pool of its own) may still leave requests the previous answer for up to
     * {@link QueryService#MAX_STALE}, as it is meant to.
     */
    private List<Answer.Row> answerOnceComputed(QueryService service, List<Answer.Row> expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<Answer.Row> answer = rows(service, daily(List.of()));
        while (!answer.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            answer = rows(service, daily(List.of()));
        }
        return answer;
    }

    /** The speed-read count once it has not moved for 100 ms (a refresh in flight has read every period). */
    private int readsOnceSettled() throws InterruptedException {
        int reads;
        do {
            reads = speedReads.get();
            Thread.sleep(100);
        } while (speedReads.get() != reads);
        return reads;
    }

    /** A service with every cache on, its answers kept while {@code changes} stands. */
    private QueryService cachingService(SpeedChanges changes) {
        return new QueryService(store, new QueryPlanner(10_000, 200_000), Duration.ofSeconds(5), 1_000, changes, 100, 100_000);
    }

    /** The speed layer records that partition 0 is flushed through {@code offset}, and the poller sees it. */
    private void recordProgress(SpeedChanges changes, long offset) throws InterruptedException {
        long before = changes.version();
        Instant ingest = CUTOFF.plusSeconds(offset - 1);
        progress = List.of(new SpeedPartitionStatus("speed", 0, offset, ingest, 0, Map.of(), ingest, Map.of(), Set.of(), Map.of()));
        changes.pollNow();
        assertNotEquals(before, changes.version(), "the poller noticed the progress");
    }

    @Test
    void anAnswerIsMergedOffTheThreadItsReadsCompletedOn() throws Exception {
        CompletableFuture<List<SpeedRow>> speedRead = new CompletableFuture<>();
        ViewRows driver = new ViewRows() {
            @Override
            public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
                return store.publishedState(view);
            }

            @Override
            public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long gen, Granularity level, Instant period) {
                return store.batchRows(view, gen, level, period);
            }

            @Override
            public CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
                return speedRead; // completed below by a thread standing for one of the driver's few I/O threads
            }

            @Override
            public boolean reachable() {
                return true;
            }
        };
        QueryService service = new QueryService(driver, new QueryPlanner(10_000, 200_000), Duration.ofSeconds(5));
        CompletableFuture<String> mergedOn = service.answer(daily(List.of())).thenApply(answer -> Thread.currentThread().getName());
        Thread io = new Thread(() -> speedRead.complete(List.of()), "driver-io");
        io.start();
        io.join();
        assertNotEquals("driver-io", mergedOn.get(5, TimeUnit.SECONDS),
                "a merge of a large answer would hold up the rows of every other query on that thread's connections");
    }

    @Test
    void aNewGenerationIsReadAfresh() {
        QueryService cached = new QueryService(store, new QueryPlanner(10_000, 200_000), Duration.ofSeconds(5), 1_000, null, 0, 0);
        rows(cached, daily(List.of()));
        int reads = batchReads.get();
        generation = 2;
        rows(cached, daily(List.of()));
        assertEquals(reads * 2, batchReads.get());
    }
}
