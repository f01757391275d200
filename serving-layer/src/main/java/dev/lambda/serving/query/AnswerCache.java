package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Recent answers, per query and published generation, valid while the speed layer's recorded
 * progress ({@link SpeedChanges} version, read before any row) stands. When the version moves, one
 * recomputation starts; until it finishes, requests get the previous answer if that one's computation
 * started less than {@code maxStale} ago (so an answer is never more than that plus the progress poll
 * behind the speed layer), otherwise they wait for the new one. Concurrent requests share a
 * computation; failures are not kept. Bounded in entries and in the rows their answers hold (least
 * recently asked for out; an answer of more than a tenth of the rows is not kept), and in age.
 * A request for an answer that is there takes no lock: many request threads on few cores must not
 * queue behind one that the scheduler has put aside.
 *
 * <p>{@link #refresh} starts those recomputations ahead of requests as soon as the version moves, for
 * the keys asked for recently and again since their last computation: a dashboard polling the same
 * questions then finds an answer computed since the last progress it could have seen instead of
 * waiting for one, and a key nobody asks for again costs at most one extra computation.
 */
final class AnswerCache {

    /** A query and the generation it reads: what an entry answers, at successive speed versions. */
    record Key(String view, String version, Instant from, Instant to, Granularity granularity, ZoneId zone, List<Integer> metrics,
               List<String> groupBy, Map<String, Set<String>> filters, String orderBy, boolean descending, int limit,
               Long generation) {

        static Key of(Query q, Long generation) {
            return new Key(q.view().name(), q.view().version(), q.from(), q.to(), q.granularity(), q.zone(), q.metrics(), q.groupBy(),
                    q.filters(), q.orderBy(), q.descending(), q.limit(), generation);
        }
    }

    /** An answer, the speed version it was computed at and when its computation started. */
    private record Served(Answer answer, long version, long startedAt) {
    }

    /** A computation under way for a speed version ({@code fresh}: just started by the one who holds this). */
    private record Pending(CompletableFuture<Answer> answer, long version, boolean fresh) {
    }

    /** The last answer served for a key, and the computation under way for a newer speed version. */
    private static final class Entry {
        Entry(long now) {
            requestedAt = now;
        }

        volatile Served served;
        volatile Pending pending;
        /** How the answer is computed, and when it was last asked for (for {@link #refresh} and eviction). */
        volatile Supplier<CompletableFuture<Answer>> compute;
        volatile long requestedAt;
        /** When its last computation started, whether it succeeded or not. */
        volatile long attemptedAt = Long.MIN_VALUE;
    }

    /** The most computations one {@link #refresh} starts. */
    static final int MAX_REFRESH = 256;

    private final int maxEntries;
    private final long maxRows;
    /**
     * The rows of the answers kept, as counted when each was kept or replaced: a hint of when to look,
     * corrected by every eviction scan (an entry evicted while its computation ran adds rows nobody
     * takes away until then); a scan corrects it by what it found, so rows counted meanwhile stay counted.
     */
    private final AtomicLong heldRows = new AtomicLong();
    private final long maxStaleNanos;
    private final long maxAgeNanos;
    private final long recentNanos;
    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final LongSupplier ticker;

    /**
     * @param maxEntries 0 turns the cache off
     * @param maxRows    the most rows the kept answers hold together (a memory bound; answers range from
     *                   one row to a hundred thousand)
     * @param maxStale   how old (by the start of its computation) a previous answer may be to be served
     *                   while a newer one is computed
     * @param maxAge     no answer is served after this, whatever the versions say
     * @param recent     a key asked for within this (and since its last computation) is recomputed ahead of
     *                   requests by {@link #refresh}
     * @param ticker     the time in nanoseconds ({@code System::nanoTime})
     */
    AnswerCache(int maxEntries, long maxRows, Duration maxStale, Duration maxAge, Duration recent, LongSupplier ticker) {
        if (maxEntries > 0 && maxRows < 1) {
            throw new IllegalArgumentException("an answer cache needs room for at least one row, got " + maxRows);
        }
        this.maxEntries = maxEntries;
        this.maxRows = maxRows;
        this.ticker = ticker;
        this.maxStaleNanos = maxStale.toNanos();
        this.maxAgeNanos = maxAge.toNanos();
        this.recentNanos = recent.toNanos();
    }

    /** The answer to {@code key} at speed version {@code version}: cached, shared, or computed by {@code compute}. */
    CompletableFuture<Answer> get(Key key, long version, Supplier<CompletableFuture<Answer>> compute) {
        if (maxEntries == 0) {
            return compute.get();
        }
        long now = ticker.getAsLong();
        Entry entry = entries.get(key);
        if (entry == null) {
            entry = entries.computeIfAbsent(key, k -> new Entry(now));
            evictIfFull();
        }
        if (entry.compute == null) {
            entry.compute = compute; // the same key is computed the same way whichever request brought it
        }
        Served served = entry.served;
        long asked = entry.requestedAt;
        if (now - asked > recentNanos / 100 || asked <= entry.attemptedAt) {
            // not on every request (hot keys would make every core write one cache line), but always
            // once after each computation, which is what makes a key worth refreshing
            entry.requestedAt = now;
        }
        long servedAge = served == null ? Long.MAX_VALUE : now - served.startedAt();
        if (served != null && served.version() >= version && servedAge <= maxAgeNanos) {
            return CompletableFuture.completedFuture(served.answer());
        }
        boolean staleUsable = served != null && servedAge <= maxStaleNanos;
        Pending pending = start(entry, version);
        if (pending.fresh()) {
            finish(entry, version, pending.answer(), now, compute);
        }
        return staleUsable ? CompletableFuture.completedFuture(served.answer()) : pending.answer();
    }

    /**
     * Starts computing, at {@code version}, the keys asked for recently and again since their last
     * computation started, whose answer is not at that version already: at most
     * {@link #MAX_REFRESH} of them, so a refresh never costs more than the requests it anticipates.
     * Not a key with a computation under way (a slow one would otherwise pile up a computation per
     * poll), nor one never answered yet (its requester's own computation is the one to wait for,
     * and one that failed is tried again only when asked again). Returns how many it started.
     */
    int refresh(long version) {
        if (maxEntries == 0) {
            return 0;
        }
        long now = ticker.getAsLong();
        int started = 0;
        for (Entry entry : entries.values()) {
            Served served = entry.served;
            Supplier<CompletableFuture<Answer>> compute = entry.compute;
            long asked = entry.requestedAt;
            if (served == null || served.version() >= version || asked <= entry.attemptedAt || entry.pending != null
                    || compute == null || now - asked > recentNanos) {
                continue;
            }
            if (started == MAX_REFRESH) {
                break;
            }
            Pending pending = start(entry, version);
            if (pending.fresh()) {
                finish(entry, version, pending.answer(), now, compute);
                started++;
            }
        }
        return started;
    }

    /** The computation under way for {@code version}: the one already started, or a fresh one the caller must run. */
    private static Pending start(Entry entry, long version) {
        Pending current = entry.pending; // most requests find it started: no lock for them
        if (current != null && current.version() >= version) {
            return new Pending(current.answer(), current.version(), false);
        }
        synchronized (entry) {
            Pending pending = entry.pending;
            if (pending != null && pending.version() >= version) {
                return new Pending(pending.answer(), pending.version(), false);
            }
            entry.pending = new Pending(new CompletableFuture<>(), version, true);
            return entry.pending;
        }
    }

    /** Runs the computation started at {@code startedAt} and, when it succeeds, makes it the served answer. */
    private void finish(Entry entry, long version, CompletableFuture<Answer> mine, long startedAt,
                               Supplier<CompletableFuture<Answer>> compute) {
        entry.attemptedAt = Math.max(entry.attemptedAt, startedAt);
        CompletableFuture<Answer> computed;
        try {
            computed = compute.get();
        } catch (RuntimeException e) {
            computed = CompletableFuture.failedFuture(e);
        }
        computed.whenComplete((answer, error) -> {
            long addedRows = 0;
            synchronized (entry) {
                Pending pending = entry.pending;
                if (pending != null && pending.answer() == mine) {
                    entry.pending = null;
                }
                Served served = entry.served;
                if (error == null && (served == null || startedAt >= served.startedAt())) {
                    // one answer that would crowd out a tenth of the others is computed each time it is asked for
                    entry.served = rows(answer) > maxRows / 10 ? null : new Served(answer, version, startedAt);
                    addedRows = rows(entry.served) - rows(served);
                }
            }
            if (addedRows != 0 && heldRows.addAndGet(addedRows) > maxRows) {
                evictIfFull();
            }
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(answer);
            }
        });
    }

    private static long rows(Answer answer) {
        return answer.rows().size();
    }

    private static long rows(Served served) {
        return served == null ? 0 : rows(served.answer());
    }

    /**
     * Past a bound, the least recently asked-for entries go until both bounds have a tenth to spare (a
     * scan now and then, not bookkeeping on every request).
     */
    private void evictIfFull() {
        if (entries.size() <= maxEntries && heldRows.get() <= maxRows) {
            return;
        }
        synchronized (entries) {
            long counted = heldRows.get();
            // request times and rows copied first: they change under a sort that read them live, which may then throw
            record Asked(Key key, Entry entry, long at, long rows) {
            }
            List<Asked> all = new ArrayList<>(entries.size());
            entries.forEach((k, e) -> all.add(new Asked(k, e, e.requestedAt, rows(e.served))));
            long rows = all.stream().mapToLong(Asked::rows).sum();
            if (all.size() <= maxEntries && rows <= maxRows) {
                heldRows.addAndGet(rows - counted);
                return;
            }
            all.sort(Comparator.comparingLong(Asked::at));
            int left = all.size();
            for (Asked a : all) {
                if (left <= maxEntries - maxEntries / 10 && rows <= maxRows - maxRows / 10) {
                    break;
                }
                if (entries.remove(a.key(), a.entry())) {
                    left--;
                    rows -= a.rows();
                }
            }
            heldRows.addAndGet(rows - counted); // not set: rows another thread counted since the scan began stay counted
        }
    }
}
