package dev.lambda.serving.query;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.store.ViewRows;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Answers a query: reads the view's published state, then the read level's batch rows of that
 * generation and its speed rows for every period in range, in parallel ({@link #READS_IN_FLIGHT} at
 * a time), and merges them with the {@link QueryEngine}. Gives up after the timeout instead of
 * hanging, and starts no read after it.
 */
public final class QueryService {

    private final ViewRows rows;
    private final QueryPlanner planner;
    private final Duration timeout;
    /** While a changed answer is recomputed, the previous one is served if it was computed less than this ago. */
    static final Duration MAX_STALE = Duration.ofMillis(500);
    /** Answers asked for within this are kept up to date ahead of requests. */
    static final Duration RECENT = Duration.ofSeconds(10);
    /** Reads one query has in flight at most: a query over years waits its turn instead of filling the connections. */
    static final int READS_IN_FLIGHT = 64;
    /**
     * Where answers are merged. The reads complete on the Cassandra driver's few I/O threads, and a
     * merge of a large answer takes tens of milliseconds: run there, it would hold up every other
     * query's rows arriving on that thread's connections.
     */
    private static final Executor MERGES = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
        Thread t = new Thread(r, "query-merge");
        t.setDaemon(true);
        return t;
    });

    private final BatchPartCache batchParts;
    private final SpeedChanges speedChanges;
    private final AnswerCache answers;

    public QueryService(ViewRows rows, QueryPlanner planner, Duration timeout) {
        this(rows, planner, timeout, 0, null, 0, 0);
    }

    /**
     * @param cachedAggregates how many rolled-up batch aggregates of recent queries to keep (0: none)
     * @param speedChanges     tells when speed rows may have changed; {@code null}: answers are not cached
     * @param cachedAnswers    how many recent answers to keep while their inputs stand (0: none)
     * @param cachedAnswerRows the most rows those answers may hold together
     */
    public QueryService(ViewRows rows, QueryPlanner planner, Duration timeout, long cachedAggregates, SpeedChanges speedChanges,
                        int cachedAnswers, long cachedAnswerRows) {
        this.rows = rows;
        this.planner = planner;
        this.timeout = timeout;
        this.batchParts = new BatchPartCache(cachedAggregates);
        this.speedChanges = speedChanges;
        this.answers = new AnswerCache(speedChanges == null ? 0 : cachedAnswers, cachedAnswerRows, MAX_STALE, Duration.ofSeconds(60),
                RECENT, System::nanoTime);
        if (speedChanges != null) {
            // answers asked for recently are recomputed as soon as the speed layer reports progress,
            // so their next request finds a fresh answer instead of waiting for one
            speedChanges.onChange(answers::refresh);
        }
    }

    public CompletableFuture<Answer> answer(Query q) {
        Granularity level = planner.readLevel(q.view(), q.from(), q.to(), q.buckets());
        long deadline = System.nanoTime() + timeout.toNanos(); // the caller's: no read starts after it gave up
        return rows.publishedState(q.view()).toCompletableFuture()
                .thenCompose(state -> {
                    state.filter(ViewState::retired).ifPresent(retired -> {
                        throw retired(retired);
                    });
                    // the speed version is taken before any row is read, so a cached answer is never older than its
                    // version, but after the published state (whose read may wait): an answer at the version of before
                    // that wait would be accepted as current; and after asking whether it can be trusted: a poll landing
                    // in between makes the version newer, never stale
                    boolean cacheable = speedChanges != null && speedChanges.current();
                    long speedVersion = cacheable ? speedChanges.version() : 0;
                    if (!cacheable) {
                        return read(q, level, state.orElse(null), deadline);
                    }
                    AnswerCache.Key key = AnswerCache.Key.of(q, state.map(ViewState::generation).orElse(null));
                    // a shared computation gets its own deadline, so a hung read fails and is forgotten instead of blocking its key
                    return answers.get(key, speedVersion,
                            () -> read(q, level, state.orElse(null), System.nanoTime() + timeout.toNanos())
                                    .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS));
                })
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A retired version's generations are dropped (a grace after its retirement) and its speed rows
     * no longer grow: whatever is left would be a silent undercount, so the query is refused, naming
     * the version to move to.
     */
    static QueryException retired(ViewState state) {
        return new QueryException(410, "view_version_retired", "view " + state.view() + " is served here with version "
                + state.version() + ", which the batch layer retired at " + state.retiredAt() + " for version " + state.replacedBy()
                + " (a changed definition): this serving instance's views file is out of date; restart it with the current one", "view");
    }

    public CompletableFuture<Optional<ViewState>> state(ViewDefinition view) {
        return rows.publishedState(view).toCompletableFuture().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Ingest time of the newest speed data of a view (its current and previous base-level periods). */
    public CompletableFuture<Instant> speedThrough(ViewDefinition view, Instant now) {
        Granularity base = view.granularity();
        Instant current = base.periodOf(base.bucketOf(now));
        List<CompletableFuture<Optional<Instant>>> reads = new ArrayList<>();
        for (Instant period : List.of(current, base.periodOf(base.bucketOf(current.minusMillis(1))))) {
            reads.add(rows.newestSpeedIngest(view, base, period).toCompletableFuture());
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
                .thenApply(v -> reads.stream().flatMap(r -> r.join().stream()).max(Instant::compareTo).orElse(null))
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Where every speed-layer partition stands, for the status endpoint. */
    public CompletableFuture<List<SpeedPartitionStatus>> speedPartitions() {
        return rows.speedPartitions().toCompletableFuture().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean ready() {
        return rows.reachable();
    }

    /** @param deadlineNanos ({@link System#nanoTime()}) after which no read of the query starts, nor its merge */
    private CompletableFuture<Answer> read(Query q, Granularity level, ViewState state, long deadlineNanos) {
        BatchPartCache.Key key = state == null ? null : BatchPartCache.Key.of(q, level, state.generation());
        Map<QueryEngine.GroupKey, Aggregate> cachedPart = key == null ? Map.of() : batchParts.get(key);
        List<CompletableFuture<List<BatchRow>>> batch = new ArrayList<>();
        List<CompletableFuture<List<SpeedRow>>> speed = new ArrayList<>();
        ReadGate gate = new ReadGate(READS_IN_FLIGHT, deadlineNanos, System::nanoTime);
        for (Instant period : level.periodsCovering(q.from(), q.to())) {
            if (cachedPart == null) {
                batch.add(gate.submit(() -> rows.batchRows(q.view(), state.generation(), level, period)));
            }
            speed.add(gate.submit(() -> rows.speedRows(q.view(), level, period, state == null ? null : state.cutoff())));
        }
        List<CompletableFuture<?>> all = new ArrayList<>(batch);
        all.addAll(speed);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApplyAsync(v -> {
            if (System.nanoTime() - deadlineNanos > 0) {
                // its caller has given up: under overload, queued merges would otherwise go on holding their rows and time
                throw new CompletionException(new TimeoutException("the query's deadline passed before its rows were merged"));
            }
            Map<QueryEngine.GroupKey, Aggregate> batchPart = cachedPart;
            if (batchPart == null) {
                List<BatchRow> b = new ArrayList<>();
                batch.forEach(f -> b.addAll(f.join()));
                batchPart = QueryEngine.batchPart(q, b);
                batchParts.put(key, batchPart);
            }
            List<SpeedRow> s = new ArrayList<>();
            speed.forEach(f -> s.addAll(f.join()));
            return QueryEngine.answer(q, level, state, batchPart, s);
        }, MERGES);
    }
}
