package dev.lambda.speed.testing;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An independent in-memory computation of what the views should hold, written from the
 * specification (DESIGN §2–§5) and sharing no aggregation code with the layers: it keeps raw
 * events, drops repeated ids (earliest ingest wins within the window) and sums with plain longs.
 * Knows the demo views of {@code config/views.yml}.
 */
public final class Oracle {

    /** One accepted event as the oracle sees it. */
    public record Accepted(String id, String type, Instant ts, Map<String, String> attrs, long ingest, int partition) {
    }

    /** Expected values of one (view, level, bucket, dims) group. */
    public static final class Expected {
        public long count;
        public long sumCents;
        public boolean anyAmount;
        public long minCents = Long.MAX_VALUE;
        public long maxCents = Long.MIN_VALUE;
        public final Set<String> distinct = new HashSet<>();
    }

    public record GroupKey(String view, String level, long bucket, List<String> dims) {
    }

    private final List<Accepted> events = new ArrayList<>();
    private final long dedupWindowMillis;

    public Oracle(long dedupWindowMillis) {
        this.dedupWindowMillis = dedupWindowMillis;
    }

    public void add(Accepted e) {
        events.add(e);
    }

    /** Events that count: per partition, an id counts unless the same id was counted within the window before it. */
    public List<Accepted> counted() {
        Map<String, Long> lastCounted = new HashMap<>();
        List<Accepted> out = new ArrayList<>();
        List<Accepted> ordered = new ArrayList<>(events);
        ordered.sort((a, b) -> Long.compare(a.ingest(), b.ingest()));
        for (Accepted e : ordered) {
            String key = e.partition() + "/" + e.id();
            Long seen = lastCounted.get(key);
            if (seen != null && e.ingest() - seen <= dedupWindowMillis) {
                continue;
            }
            lastCounted.put(key, e.ingest());
            out.add(e);
        }
        return out;
    }

    /** Expected groups of the demo views for the counted events ingested in [fromIngest, toIngest). */
    public Map<GroupKey, Expected> expected(long fromIngest, long toIngest) {
        Map<GroupKey, Expected> groups = new HashMap<>();
        for (Accepted e : counted()) {
            if (e.ingest() < fromIngest || e.ingest() >= toIngest) {
                continue;
            }
            if (e.type().equals("page_view")) {
                add(groups, "pageviews", "minute", e, List.of(attr(e, "page"), attr(e, "country")), null, "user_id");
            }
            if (e.type().equals("purchase")) {
                add(groups, "sales", "minute", e, List.of(attr(e, "product"), attr(e, "country")), "amount", "user_id");
            }
            if (e.type().equals("page_view") || e.type().equals("purchase") || e.type().equals("signup")) {
                add(groups, "activity", "hour", e, List.of(attr(e, "country")), null, "user_id");
            }
        }
        return groups;
    }

    private static void add(Map<GroupKey, Expected> groups, String view, String base, Accepted e, List<String> dims,
                            String amountField, String distinctField) {
        List<String> levels = base.equals("minute") ? List.of("minute", "hour", "day") : List.of("hour", "day");
        for (String level : levels) {
            ChronoUnit unit = switch (level) {
                case "minute" -> ChronoUnit.MINUTES;
                case "hour" -> ChronoUnit.HOURS;
                default -> ChronoUnit.DAYS;
            };
            long bucket = e.ts().atOffset(ZoneOffset.UTC).truncatedTo(unit).toInstant().toEpochMilli();
            Expected x = groups.computeIfAbsent(new GroupKey(view, level, bucket, dims), k -> new Expected());
            x.count++;
            String amount = amountField == null ? null : e.attrs().get(amountField);
            if (amount != null) {
                long cents = new BigDecimal(amount).movePointRight(2).longValueExact();
                x.sumCents += cents;
                x.anyAmount = true;
                x.minCents = Math.min(x.minCents, cents);
                x.maxCents = Math.max(x.maxCents, cents);
            }
            String d = e.attrs().get(distinctField);
            if (d != null && !d.isEmpty()) {
                x.distinct.add(d);
            }
        }
    }

    private static String attr(Accepted e, String name) {
        return e.attrs().getOrDefault(name, "");
    }
}
