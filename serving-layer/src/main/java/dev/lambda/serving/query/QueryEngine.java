package dev.lambda.serving.query;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The batch/speed merge (DESIGN §4) as a pure function, like Pinot's broker reduce:
 * {@code answer(bucket) = batch_generation(bucket) ⊕ Σ speed(bucket, slot) for slot ≥ T}, then
 * filter, group, roll up to the requested granularity with {@code plus}, order and limit. No I/O.
 */
public final class QueryEngine {

    private QueryEngine() {
    }

    /** One answer row's identity: its bucket ({@code null} for granularity all) and group values. */
    record GroupKey(Instant bucket, List<String> groups) {
    }

    /** The query's row filters, resolved to dimension positions once. */
    private record Filters(int[] indexes, List<Set<String>> values) {
        static Filters of(Query q) {
            int[] indexes = new int[q.filters().size()];
            List<Set<String>> values = new ArrayList<>();
            int f = 0;
            for (var e : q.filters().entrySet()) {
                indexes[f++] = q.view().dimensions().indexOf(e.getKey());
                values.add(e.getValue());
            }
            return new Filters(indexes, values);
        }

        boolean pass(List<String> dims) {
            for (int i = 0; i < indexes.length; i++) {
                if (!values.get(i).contains(dims.get(indexes[i]))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The batch side of an answer: the generation's rows in range that pass the filters, rolled up
     * into the answer's groups. It depends only on the generation and the query's range, granularity,
     * group-by and filters, so it can be kept as long as the generation is published.
     */
    public static Map<GroupKey, Aggregate> batchPart(Query q, List<BatchRow> batch) {
        int[] groupIndexes = groupIndexes(q);
        Filters filters = Filters.of(q);
        Buckets buckets = q.buckets();
        Map<GroupKey, List<Aggregate>> groups = new HashMap<>();
        for (BatchRow r : batch) {
            if (inRange(q, r.bucket()) && filters.pass(r.dims())) {
                groups.computeIfAbsent(key(buckets, r.bucket(), r.dims(), groupIndexes), k -> new ArrayList<>()).add(r.aggregate());
            }
        }
        Map<GroupKey, Aggregate> part = new HashMap<>(groups.size() * 2);
        groups.forEach((k, parts) -> part.put(k, Aggregate.sum(parts)));
        return part;
    }

    /**
     * @param state the published generation, or {@code null} when the batch has not published yet
     *              (then every speed row counts)
     */
    public static Answer answer(Query q, Granularity readLevel, ViewState state, List<BatchRow> batch, List<SpeedRow> speed) {
        return answer(q, readLevel, state, batchPart(q, batch), speed);
    }

    /** As above, with the batch side already rolled up by {@link #batchPart}. */
    public static Answer answer(Query q, Granularity readLevel, ViewState state, Map<GroupKey, Aggregate> batchPart, List<SpeedRow> speed) {
        int[] groupIndexes = groupIndexes(q);
        Filters filters = Filters.of(q);
        Buckets buckets = q.buckets();
        Map<GroupKey, List<Aggregate>> groups = new HashMap<>();
        batchPart.forEach((k, aggregate) -> groups.computeIfAbsent(k, x -> new ArrayList<>(2)).add(aggregate));
        Instant cutoff = state == null ? null : state.cutoff();
        Instant newestSpeed = null;
        for (SpeedRow r : speed) {
            if (cutoff != null && r.slot().isBefore(cutoff)) {
                continue; // already in the batch generation
            }
            if (inRange(q, r.bucket()) && filters.pass(r.dims())) {
                groups.computeIfAbsent(key(buckets, r.bucket(), r.dims(), groupIndexes), k -> new ArrayList<>()).add(r.aggregate());
                newestSpeed = newestSpeed == null || r.latestIngest().isAfter(newestSpeed) ? r.latestIngest() : newestSpeed;
            }
        }
        List<Answer.Row> rows = new ArrayList<>(groups.size());
        groups.forEach((k, parts) -> {
            Aggregate aggregate = parts.size() == 1 ? parts.get(0) : Aggregate.sum(parts);
            List<Object> values = new ArrayList<>(q.metrics().size());
            for (int m : q.metrics()) {
                values.add(aggregate.get(m).read());
            }
            rows.add(new Answer.Row(k.bucket(), k.groups(), values));
        });
        if (q.limit() == 0 && rows.size() > Query.MAX_ROWS) {
            // a chart or a sheet missing rows without saying so is worse than no answer
            throw new QueryException(400, "too_many_rows", "the answer has " + rows.size() + " rows, more than the " + Query.MAX_ROWS
                    + " one answer holds: narrow from/to, use a coarser granularity or fewer groupBy dimensions, or ask for the first rows"
                    + " with limit", "limit");
        }
        rows.sort(order(q));
        List<Answer.Row> limited = q.limit() > 0 && rows.size() > q.limit() ? rows.subList(0, q.limit()) : rows;
        return new Answer(q, readLevel, state == null ? null : state.generation(), cutoff, newestSpeed, limited);
    }

    private static int[] groupIndexes(Query q) {
        return q.groupBy().stream().mapToInt(d -> q.view().dimensions().indexOf(d)).toArray();
    }

    private static boolean inRange(Query q, Instant bucket) {
        return !bucket.isBefore(q.from()) && bucket.isBefore(q.to());
    }

    /** @param buckets the answer's, {@code null} for granularity all */
    private static GroupKey key(Buckets buckets, Instant bucket, List<String> dims, int[] groupIndexes) {
        List<String> values = new ArrayList<>(groupIndexes.length);
        for (int i : groupIndexes) {
            values.add(dims.get(i));
        }
        return new GroupKey(buckets == null ? null : buckets.bucketOf(bucket), values);
    }

    private static Comparator<Answer.Row> order(Query q) {
        Comparator<Answer.Row> byBucket = Comparator.comparing(Answer.Row::bucket, Comparator.nullsFirst(Comparator.naturalOrder()));
        Comparator<Answer.Row> byGroups = (a, b) -> {
            for (int i = 0; i < a.groups().size(); i++) {
                int c = a.groups().get(i).compareTo(b.groups().get(i));
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        };
        if (q.orderBy().equals("bucket")) {
            Comparator<Answer.Row> c = byBucket.thenComparing(byGroups);
            return q.descending() ? byBucket.reversed().thenComparing(byGroups) : c;
        }
        int position = -1;
        for (int i = 0; i < q.metrics().size(); i++) {
            if (q.view().metrics().get(q.metrics().get(i)).name().equals(q.orderBy())) {
                position = i;
            }
        }
        int p = position;
        Comparator<Object> values = QueryEngine::compareValues;
        // "no value" last either way: the 10 smallest sellers are never the products whose every amount was unusable
        Comparator<Answer.Row> byMetric = Comparator.comparing(r -> r.metrics().get(p),
                Comparator.nullsLast(q.descending() ? values.reversed() : values));
        return byMetric.thenComparing(byBucket).thenComparing(byGroups);
    }

    /** Numbers in natural order. */
    private static int compareValues(Object a, Object b) {
        if (a instanceof Long x && b instanceof Long y) {
            return Long.compare(x, y);
        }
        return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString()));
    }
}
