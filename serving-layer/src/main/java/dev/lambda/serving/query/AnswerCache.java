package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Recent answers, valid while their inputs stand: the published generation and cutoff they were
 * computed from and the {@link SpeedChanges} version before their speed rows were read. Bounded in
 * entries (least recently used out) and in age, so rows expiring by TTL leave answers too. Requests
 * for an answer being computed wait for that computation instead of starting their own, so a change
 * costs one recomputation per query, not one per waiting client. Failures are not kept.
 */
final class AnswerCache {

    /** Everything an answer depends on. */
    record Key(String view, String version, Instant from, Instant to, Granularity granularity, List<Integer> metrics,
               List<String> groupBy, Map<String, Set<String>> filters, String orderBy, boolean descending, int limit,
               Long generation, long speedVersion) {

        static Key of(Query q, Long generation, long speedVersion) {
            return new Key(q.view().name(), q.view().version(), q.from(), q.to(), q.granularity(), q.metrics(), q.groupBy(),
                    q.filters(), q.orderBy(), q.descending(), q.limit(), generation, speedVersion);
        }
    }

    private record Entry(CompletableFuture<Answer> answer, long storedAt) {
    }

    private final int maxEntries;
    private final long maxAgeNanos;
    private final Map<Key, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);

    /** @param maxEntries 0 turns the cache off */
    AnswerCache(int maxEntries, java.time.Duration maxAge) {
        this.maxEntries = maxEntries;
        this.maxAgeNanos = maxAge.toNanos();
    }

    /** The cached answer for {@code key}, or the one {@code compute} starts (and others then share). */
    CompletableFuture<Answer> get(Key key, Supplier<CompletableFuture<Answer>> compute) {
        if (maxEntries == 0) {
            return compute.get();
        }
        CompletableFuture<Answer> mine;
        synchronized (this) {
            Entry e = entries.get(key);
            if (e != null && System.nanoTime() - e.storedAt() <= maxAgeNanos && !e.answer().isCompletedExceptionally()) {
                return e.answer();
            }
            mine = new CompletableFuture<>();
            entries.put(key, new Entry(mine, System.nanoTime()));
            var oldest = entries.keySet().iterator();
            while (entries.size() > maxEntries && oldest.hasNext()) {
                oldest.next();
                oldest.remove();
            }
        }
        CompletableFuture<Answer> computed;
        try {
            computed = compute.get();
        } catch (RuntimeException e) {
            computed = CompletableFuture.failedFuture(e);
        }
        computed.whenComplete((answer, error) -> {
            if (error != null) {
                forget(key, mine);
                mine.completeExceptionally(error);
            } else {
                mine.complete(answer);
            }
        });
        return mine;
    }

    private synchronized void forget(Key key, CompletableFuture<Answer> failed) {
        Entry current = entries.get(key);
        if (current != null && current.answer() == failed) {
            entries.remove(key);
        }
    }
}
