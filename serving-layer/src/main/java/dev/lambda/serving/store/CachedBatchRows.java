package dev.lambda.serving.store;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Keeps recently read batch partitions in memory. A generation's rows never change once published
 * (a new generation has a new id), so a cached partition is never stale; the least recently used
 * ones go when the cache holds more than its row budget. The published state is kept for a short
 * time ({@code stateTtl}), then refreshed in the background while the old one still answers, so a new
 * generation is picked up within two TTLs; answers stay exact meanwhile because the previous
 * generation and its cutoff remain a consistent pair (the batch keeps it through its grace period).
 * Speed rows are always read fresh.
 */
public final class CachedBatchRows implements ViewRows {

    private record Key(String view, String version, long generation, Granularity level, Instant period) {
    }

    private record StateKey(String view, String version) {
    }

    private record CachedState(CompletableFuture<Optional<ViewState>> state, long loadedAt) {
    }

    private final ViewRows store;
    private final long maxRows;
    private final long stateTtlNanos;
    private final Map<StateKey, CachedState> states = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Key, CompletableFuture<List<BatchRow>>> cache = new LinkedHashMap<>(256, 0.75f, true);
    private long cachedRows;

    public CachedBatchRows(ViewRows store, long maxRows) {
        this(store, maxRows, java.time.Duration.ZERO);
    }

    public CachedBatchRows(ViewRows store, long maxRows, java.time.Duration stateTtl) {
        this.store = store;
        this.maxRows = maxRows;
        this.stateTtlNanos = stateTtl.toNanos();
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
        store.batchRows(view, generation, level, period).whenComplete((rows, error) -> {
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
        long now = System.nanoTime();
        StateKey key = new StateKey(view.name(), view.version());
        CachedState cached = states.get(key);
        boolean usable = cached != null && cached.state().isDone() && !cached.state().isCompletedExceptionally();
        if (usable && now - cached.loadedAt() < stateTtlNanos) {
            return cached.state();
        }
        if (usable && now - cached.loadedAt() < 2 * stateTtlNanos) {
            // expired but recent: answer with it while one request refreshes it in the background,
            // so no query waits for the state read (a new generation shows up within two TTLs)
            CachedState refreshing = new CachedState(cached.state(), now);
            if (states.replace(key, cached, refreshing)) {
                store.publishedState(view).toCompletableFuture().whenComplete((state, error) -> {
                    if (error == null) {
                        states.replace(key, refreshing, new CachedState(CompletableFuture.completedFuture(state), System.nanoTime()));
                    } else {
                        states.remove(key, refreshing); // the next query reads it again and sees the failure
                    }
                });
            }
            return cached.state();
        }
        CachedState loaded = states.compute(key, (k, old) -> old != null && old != cached ? old
                : new CachedState(store.publishedState(view).toCompletableFuture(), now));
        return loaded.state();
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
    public CompletionStage<List<dev.lambda.common.cassandra.SpeedPartitionStatus>> speedPartitions() {
        return store.speedPartitions();
    }
}
