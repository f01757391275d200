package dev.lambda.system;

import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.MetricType;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a query must answer, computed directly from the records sent (with the ingest time, partition
 * and offset the broker gave them) by the rules of DESIGN §4–§5, sharing no code with the layers
 * beyond the views' declarations:
 * <ul>
 *   <li>an event ingested before the batch cutoff counts iff it is the earliest-ingested occurrence of
 *       its id over everything sent;</li>
 *   <li>an event ingested at or after the cutoff counts iff its partition saw no counted occurrence of
 *       its id within the dedup window before it (the speed layer's documented rule).</li>
 * </ul>
 * Once the cutoff lies after every record, that is exactly the aggregation over the deduplicated events.
 */
final class Oracle {

    /** A record the broker accepted: where it landed and when, and its event ({@code null} if malformed). */
    record Sent(int partition, long offset, long ingestMillis, TestStream.TestEvent event) {
    }

    private final List<Sent> valid = new ArrayList<>();
    private final Set<Sent> earliest = new HashSet<>();
    private final Set<Sent> keptBySpeed = new HashSet<>();

    Oracle(List<Sent> sent, Duration dedupWindow) {
        Comparator<Sent> byIngest = Comparator.comparingLong(Sent::ingestMillis).thenComparingInt(Sent::partition)
                .thenComparingLong(Sent::offset);
        Map<String, Sent> first = new HashMap<>();
        for (Sent s : sent) {
            if (s.event() != null) {
                valid.add(s);
                first.merge(s.event().id(), s, (a, b) -> byIngest.compare(a, b) <= 0 ? a : b);
            }
        }
        earliest.addAll(first.values());
        // the speed layer: per partition in offset order, an id kept at time k makes later copies within the window duplicates,
        // and so a later copy whose time is earlier than k (the broker clock stepped back): it looks up to the newest time seen
        List<Sent> inLogOrder = new ArrayList<>(valid);
        inLogOrder.sort(Comparator.comparingInt(Sent::partition).thenComparingLong(Sent::offset));
        Map<String, Long> lastKept = new HashMap<>();
        for (Sent s : inLogOrder) {
            String key = s.partition() + "/" + s.event().id();
            Long kept = lastKept.get(key);
            if (kept != null && s.ingestMillis() - kept <= dedupWindow.toMillis()) {
                continue;
            }
            lastKept.merge(key, s.ingestMillis(), Math::max);
            keptBySpeed.add(s);
        }
    }

    /** Valid records the speed layer drops as duplicates (its per-partition windowed rule). */
    long speedDuplicates() {
        return valid.size() - keptBySpeed.size();
    }

    /** The rows {@code query} must return when the batch cutoff is {@code cutoff} ({@code null}: no batch yet). */
    List<Map<String, Object>> answer(QuerySpec query, Instant cutoff) {
        ViewDefinition view = query.view();
        Map<List<Object>, Acc> groups = new LinkedHashMap<>();
        for (Sent s : valid) {
            TestStream.TestEvent e = s.event();
            boolean counted = cutoff != null && s.ingestMillis() < cutoff.toEpochMilli() ? earliest.contains(s) : keptBySpeed.contains(s);
            if (!counted || !view.events().contains(e.type()) || e.ts().isBefore(query.from()) || !e.ts().isBefore(query.to())) {
                continue;
            }
            if (!query.filters().entrySet().stream().allMatch(f -> f.getValue().contains(e.attrs().getOrDefault(f.getKey(), "")))) {
                continue;
            }
            List<Object> key = new ArrayList<>();
            key.add(bucket(e.ts(), query.granularity(), query.zone() == null ? ZoneOffset.UTC : query.zone()));
            for (String d : query.groupBy()) {
                key.add(e.attrs().getOrDefault(d, ""));
            }
            groups.computeIfAbsent(key, k -> new Acc(query.metrics().size())).add(query, e);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        groups.forEach((key, acc) -> {
            Map<String, Object> row = new LinkedHashMap<>();
            if (key.get(0) != null) {
                row.put("bucket", key.get(0).toString());
            }
            for (int i = 0; i < query.groupBy().size(); i++) {
                row.put(query.groupBy().get(i), key.get(i + 1));
            }
            for (int i = 0; i < query.metrics().size(); i++) {
                row.put(query.metrics().get(i).name(), acc.value(i, query.metrics().get(i)));
            }
            rows.add(row);
        });
        rows.sort(order(query));
        return query.limit() > 0 && rows.size() > query.limit() ? rows.subList(0, query.limit()) : rows;
    }

    /** The start of the bucket {@code ts} is in, on the clocks of {@code zone}. */
    private static Instant bucket(Instant ts, String granularity, ZoneId zone) {
        ZonedDateTime local = ts.atZone(zone);
        return switch (granularity) {
            case "minute" -> ts.truncatedTo(ChronoUnit.MINUTES);
            case "hour" -> local.truncatedTo(ChronoUnit.HOURS).toInstant();
            case "day" -> local.toLocalDate().atStartOfDay(zone).toInstant();
            case "all" -> null;
            default -> throw new IllegalArgumentException(granularity);
        };
    }

    /** By bucket (or by the order metric, rows with no value of it last, then bucket), then the group values. */
    private static Comparator<Map<String, Object>> order(QuerySpec q) {
        Comparator<Map<String, Object>> byBucket = Comparator.comparing(r -> (String) r.get("bucket"),
                Comparator.nullsFirst(Comparator.comparing(Instant::parse)));
        Comparator<Map<String, Object>> byGroups = (a, b) -> {
            for (String d : q.groupBy()) {
                int c = ((String) a.get(d)).compareTo((String) b.get(d));
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        };
        if (q.orderBy() == null) {
            return (q.descending() ? byBucket.reversed() : byBucket).thenComparing(byGroups);
        }
        Comparator<Object> numbers = (a, b) -> new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString()));
        // no value last, whichever way the metric goes
        Comparator<Map<String, Object>> byMetric = Comparator.comparing(r -> r.get(q.orderBy()),
                Comparator.nullsLast(q.descending() ? numbers.reversed() : numbers));
        return byMetric.thenComparing(byBucket).thenComparing(byGroups);
    }

    /** One group's running metrics. */
    private static final class Acc {
        private final long[] counts;
        private final BigDecimal[] decimals;
        private final List<Set<String>> distinct = new ArrayList<>();

        Acc(int metrics) {
            counts = new long[metrics];
            decimals = new BigDecimal[metrics];
            for (int i = 0; i < metrics; i++) {
                distinct.add(new HashSet<>());
            }
        }

        void add(QuerySpec q, TestStream.TestEvent e) {
            for (int i = 0; i < q.metrics().size(); i++) {
                MetricSpec m = q.metrics().get(i);
                String raw = m.field() == null ? null : e.attrs().get(m.field());
                switch (m.type()) {
                    case COUNT -> counts[i]++;
                    case DISTINCT -> {
                        if (raw != null) {
                            distinct.get(i).add(raw);
                        }
                    }
                    default -> {
                        if (raw != null) {
                            BigDecimal v = new BigDecimal(raw).setScale(m.scale(), RoundingMode.HALF_UP);
                            BigDecimal old = decimals[i];
                            decimals[i] = old == null ? v : switch (m.type()) {
                                case SUM -> old.add(v);
                                case MIN -> old.min(v);
                                case MAX -> old.max(v);
                                default -> throw new IllegalStateException();
                            };
                        }
                    }
                }
            }
        }

        Object value(int i, MetricSpec m) {
            return m.type() == MetricType.COUNT ? (Object) counts[i]
                    : m.type() == MetricType.DISTINCT ? (Object) (long) distinct.get(i).size() : decimals[i];
        }
    }
}
