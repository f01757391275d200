package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Recent answers, per query and published generation, valid while the speed layer's recorded
 * progress ({@link SpeedChanges} version, read before any row) stands. When the version moves, one
 * recomputation starts; until it finishes, requests get the previous answer if that one's computation
 * started less than {@code maxStale} ago (so an answer is never more than that plus the progress poll
 * behind the speed layer), otherwise they wait for the new one. Concurrent requests share a
 * computation; failures are not kept. Bounded in entries (least recently used out) and in age.
 */
final class AnswerCache {

    /** A query and the generation it reads: what an entry answers, at successive speed versions. */
    record Key(String view, String version, Instant from, Instant to, Granularity granularity, List<Integer> metrics,
               List<String> groupBy, Map<String, Set<String>> filters, String orderBy, boolean descending, int limit,
               Long generation) {

        static Key of(Query q, Long generation) {
            return new Key(q.view().name(), q.view().version(), q.from(), q.to(), q.granularity(), q.metrics(), q.groupBy(),
                    q.filters(), q.orderBy(), q.descending(), q.limit(), generation);
        }
    }

    /** The last answer served for a key, and the computation under way for a newer speed version. */
    private static final class Entry {
        Answer served;
        long servedVersion;
        long servedStartedAt;
        CompletableFuture<Answer> pending;
        long pendingVersion;
    }

    private final int maxEntries;
    private final long maxStaleNanos;
    private final long maxAgeNanos;
    private final Map<Key, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);

    /**
     * @param maxEntries 0 turns the cache off
     * @param maxStale   how old (by the start of its computation) a previous answer may be to be served
     *                   while a newer one is computed
     * @param maxAge     no answer is served after this, whatever the versions say
     */
    AnswerCache(int maxEntries, Duration maxStale, Duration maxAge) {
        this.maxEntries = maxEntries;
        this.maxStaleNanos = maxStale.toNanos();
        this.maxAgeNanos = maxAge.toNanos();
    }

    /** The answer to {@code key} at speed version {@code version}: cached, shared, or computed by {@code compute}. */
    CompletableFuture<Answer> get(Key key, long version, Supplier<CompletableFuture<Answer>> compute) {
        if (maxEntries == 0) {
            return compute.get();
        }
        long now = System.nanoTime();
        CompletableFuture<Answer> mine;
        CompletableFuture<Answer> result;
        Entry entry;
        synchronized (this) {
            entry = entries.get(key);
            if (entry == null) {
                entry = new Entry();
                entries.put(key, entry);
                var oldest = entries.keySet().iterator();
                while (entries.size() > maxEntries && oldest.hasNext()) {
                    oldest.next();
                    oldest.remove();
                }
            }
            long servedAge = entry.served == null ? Long.MAX_VALUE : now - entry.servedStartedAt;
            if (entry.served != null && entry.servedVersion == version && servedAge <= maxAgeNanos) {
                return CompletableFuture.completedFuture(entry.served);
            }
            boolean staleUsable = entry.served != null && servedAge <= maxStaleNanos;
            if (entry.pending != null && entry.pendingVersion == version) {
                return staleUsable ? CompletableFuture.completedFuture(entry.served) : entry.pending;
            }
            mine = new CompletableFuture<>();
            entry.pending = mine;
            entry.pendingVersion = version;
            result = staleUsable ? CompletableFuture.completedFuture(entry.served) : mine;
        }
        CompletableFuture<Answer> computed;
        try {
            computed = compute.get();
        } catch (RuntimeException e) {
            computed = CompletableFuture.failedFuture(e);
        }
        Entry e = entry;
        computed.whenComplete((answer, error) -> {
            synchronized (this) {
                if (e.pending == mine) {
                    e.pending = null;
                }
                if (error == null && (e.served == null || now >= e.servedStartedAt)) {
                    e.served = answer;
                    e.servedVersion = version;
                    e.servedStartedAt = now;
                }
            }
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(answer);
            }
        });
        return result;
    }
}
