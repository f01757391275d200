package dev.lambda.serving.store;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Keeps recently read batch partitions in memory. A generation's rows never change once published
 * (a new generation has a new id), so a cached partition is never stale; the least recently used
 * ones go when the cache holds more than its row budget. The published state is kept for a short
 * time ({@code stateTtl}), then refreshed in the background while the old one still answers, one
 * read at a time, so a new generation is picked up within two TTLs (when a read takes longer, queries
 * past two TTLs wait for it); answers stay exact meanwhile because the previous generation and its
 * cutoff remain a consistent pair (the batch keeps it through its grace period). Speed rows are
 * always read fresh.
 */
public final class CachedBatchRows implements ViewRows {

    private record Key(String view, String version, long generation, Granularity level, Instant period) {
    }

    private record StateKey(String view, String version) {
    }

    /**
     * A published state, or its first read under way; {@code readAt}: when the read that gave it
     * began; {@code refresh}: the read under way to replace it, or {@code null}.
     */
    private record CachedState(CompletableFuture<Optional<ViewState>> state, long readAt, CompletableFuture<Optional<ViewState>> refresh) {
    }

    private final ViewRows store;
    private final long maxRows;
    private final long stateTtlNanos;
    /** The clock the state's age is measured with, in nanoseconds ({@link System#nanoTime()}). */
    private final LongSupplier ticker;
    private final Map<StateKey, CachedState> states = new ConcurrentHashMap<>();
    private final Map<Key, CompletableFuture<List<BatchRow>>> cache = new LinkedHashMap<>(256, 0.75f, true);
    private long cachedRows;

    public CachedBatchRows(ViewRows store, long maxRows) {
        this(store, maxRows, Duration.ZERO, System::nanoTime);
    }

    public CachedBatchRows(ViewRows store, long maxRows, Duration stateTtl, LongSupplier ticker) {
        this.store = store;
        this.maxRows = maxRows;
        this.stateTtlNanos = stateTtl.toNanos();
        this.ticker = ticker;
    }

    @Override
    public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long generation, Granularity level, Instant period) {
        Key key = new Key(view.name(), view.version(), generation, level, period);
        CompletableFuture<List<BatchRow>> load;
        synchronized (this) {
            CompletableFuture<List<BatchRow>> cached = cache.get(key);
            if (cached != null) {
                return cached;
            }
            load = new CompletableFuture<>();
            cache.put(key, load);
        }
        read(() -> store.batchRows(view, generation, level, period)).whenComplete((rows, error) -> {
            synchronized (this) {
                if (error != null) {
                    cache.remove(key); // never cache a failure
                } else {
                    cachedRows += rows.size();
                    evict();
                }
            }
            if (error != null) {
                load.completeExceptionally(error);
            } else {
                load.complete(rows);
            }
        });
        return load;
    }

    private void evict() {
        Iterator<Map.Entry<Key, CompletableFuture<List<BatchRow>>>> oldest = cache.entrySet().iterator();
        while (cachedRows > maxRows && oldest.hasNext()) {
            CompletableFuture<List<BatchRow>> f = oldest.next().getValue();
            if (f.isDone() && !f.isCompletedExceptionally()) {
                cachedRows -= f.join().size();
                oldest.remove();
            }
        }
    }

    @Override
    public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
        if (stateTtlNanos == 0) {
            return store.publishedState(view);
        }
        long now = ticker.getAsLong();
        StateKey key = new StateKey(view.name(), view.version());
        CachedState cached = states.get(key);
        if (cached != null && !cached.state().isDone()) {
            return cached.state(); // its first read is under way: wait for it rather than start another
        }
        long age = cached == null || cached.state().isCompletedExceptionally() ? Long.MAX_VALUE : now - cached.readAt();
        if (age < stateTtlNanos) {
            return cached.state();
        }
        if (age < 2 * stateTtlNanos) {
            // expired but recent: answer with it while one request refreshes it in the background, so
            // no query waits for the state read. One refresh at a time, and it lands whatever comes
            // after: refreshes that each outlived the TTL and replaced one another would never land
            if (cached.refresh() == null) {
                CompletableFuture<Optional<ViewState>> refresh = new CompletableFuture<>();
                CachedState refreshing = new CachedState(cached.state(), cached.readAt(), refresh);
                if (states.replace(key, cached, refreshing)) {
                    read(() -> store.publishedState(view)).whenComplete((state, error) -> {
                        states.replace(key, refreshing, error == null
                                ? new CachedState(CompletableFuture.completedFuture(state), now, null) : cached);
                        if (error == null) {
                            refresh.complete(state);
                        } else {
                            refresh.completeExceptionally(error);
                        }
                    });
                }
            }
            return cached.state();
        }
        if (cached != null && cached.refresh() != null) {
            return cached.refresh(); // older than two TTLs while a refresh is under way: wait for it rather than start another
        }
        // older than two TTLs, or never read, or the last read failed: read before answering
        CachedState loaded = states.compute(key, (k, old) -> old != null && old != cached ? old
                : new CachedState(read(() -> store.publishedState(view)), now, null));
        return loaded.state();
    }

    /** The store's answer, with a call that throws instead of failing its answer taken as a failed answer. */
    private static <T> CompletableFuture<T> read(Supplier<CompletionStage<T>> call) {
        try {
            return call.get().toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
        return store.speedRows(view, level, period, fromSlot);
    }

    @Override
    public CompletionStage<Optional<Instant>> newestSpeedIngest(ViewDefinition view, Granularity level, Instant period) {
        return store.newestSpeedIngest(view, level, period);
    }

    @Override
    public boolean reachable() {
        return store.reachable();
    }

    @Override
    public CompletionStage<List<SpeedPartitionStatus>> speedPartitions() {
        return store.speedPartitions();
    }
}
