package dev.lambda.serving.query;

import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recent queries' batch sides ({@link QueryEngine#batchPart}), least recently used out first once
 * they hold more than a budget of aggregates. A published generation never changes, so an entry is
 * never stale: a new generation simply has other keys. This is what lets a dashboard's repeated
 * queries cost only their speed side.
 */
final class BatchPartCache {

    /** What a batch side depends on: the generation and the query's shape, not its metrics, order or limit. */
    record Key(String view, String version, long generation, Granularity level, Instant from, Instant to, Buckets buckets,
               List<String> groupBy, Map<String, Set<String>> filters) {

        static Key of(Query q, Granularity level, long generation) {
            return new Key(q.view().name(), q.view().version(), generation, level, q.from(), q.to(), q.buckets(), q.groupBy(),
                    q.filters());
        }
    }

    private final long maxAggregates;
    private final Map<Key, Map<QueryEngine.GroupKey, Aggregate>> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long held;

    /** @param maxAggregates budget over all entries; 0 turns the cache off */
    BatchPartCache(long maxAggregates) {
        this.maxAggregates = maxAggregates;
    }

    synchronized Map<QueryEngine.GroupKey, Aggregate> get(Key key) {
        return entries.get(key);
    }

    synchronized void put(Key key, Map<QueryEngine.GroupKey, Aggregate> part) {
        if (weight(part) > maxAggregates / 4) {
            return; // off, or one huge answer that would push out everything else
        }
        Map<QueryEngine.GroupKey, Aggregate> previous = entries.put(key, Map.copyOf(part));
        held += weight(part) - (previous == null ? 0 : weight(previous));
        Iterator<Map<QueryEngine.GroupKey, Aggregate>> oldest = entries.values().iterator();
        while (held > maxAggregates && oldest.hasNext()) {
            held -= weight(oldest.next());
            oldest.remove();
        }
    }

    /** An empty answer still takes a slot. */
    private static long weight(Map<QueryEngine.GroupKey, Aggregate> part) {
        return Math.max(1, part.size());
    }
}
