package dev.lambda.batch.testing;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a generation must contain, computed straight from the raw events by the specification and
 * sharing no code with the layers: valid events ingested before the cutoff, the earliest-ingested
 * occurrence of each id, plain-long arithmetic in cents. Knows the demo views of config/views.yml.
 */
public final class BatchOracle {

    public record Key(String view, String level, Instant bucket, List<String> dims) {
    }

    public static final class Expected {
        public long count;
        public long sumCents;
        public boolean anyAmount;
        public long minCents = Long.MAX_VALUE;
        public long maxCents = Long.MIN_VALUE;
        public final Set<String> distinct = new HashSet<>();

        public BigDecimal sum() {
            return anyAmount ? BigDecimal.valueOf(sumCents, 2) : null;
        }

        public BigDecimal min() {
            return anyAmount ? BigDecimal.valueOf(minCents, 2) : null;
        }

        public BigDecimal max() {
            return anyAmount ? BigDecimal.valueOf(maxCents, 2) : null;
        }
    }

    private BatchOracle() {
    }

    public static Map<Key, Expected> expected(List<MasterRows.Event> events, Instant cutoff) {
        Map<String, MasterRows.Event> first = new HashMap<>();
        Comparator<MasterRows.Event> order = Comparator.comparing(MasterRows.Event::ingest)
                .thenComparingInt(MasterRows.Event::partition).thenComparingLong(MasterRows.Event::offset);
        for (MasterRows.Event e : events) {
            if (!e.valid() || !e.ingest().isBefore(cutoff)) {
                continue;
            }
            first.merge(e.id(), e, (a, b) -> order.compare(a, b) <= 0 ? a : b);
        }
        Map<Key, Expected> out = new HashMap<>();
        for (MasterRows.Event e : first.values()) {
            if (e.type().equals("page_view")) {
                add(out, "pageviews", "minute", e, List.of(attr(e, "page"), attr(e, "country")), false);
            }
            if (e.type().equals("purchase")) {
                add(out, "sales", "minute", e, List.of(attr(e, "product"), attr(e, "country")), true);
            }
            add(out, "activity", "hour", e, List.of(attr(e, "country")), false);
        }
        return out;
    }

    private static void add(Map<Key, Expected> out, String view, String base, MasterRows.Event e, List<String> dims, boolean amounts) {
        List<String> levels = base.equals("minute") ? List.of("minute", "hour", "day") : List.of("hour", "day");
        for (String level : levels) {
            ChronoUnit unit = level.equals("minute") ? ChronoUnit.MINUTES : level.equals("hour") ? ChronoUnit.HOURS : ChronoUnit.DAYS;
            Instant bucket = e.ts().atOffset(ZoneOffset.UTC).truncatedTo(unit).toInstant();
            Expected x = out.computeIfAbsent(new Key(view, level, bucket, dims), k -> new Expected());
            x.count++;
            String amount = amounts ? e.attrs().get("amount") : null;
            if (amount != null) {
                long cents = new BigDecimal(amount).movePointRight(2).longValueExact();
                x.anyAmount = true;
                x.sumCents += cents;
                x.minCents = Math.min(x.minCents, cents);
                x.maxCents = Math.max(x.maxCents, cents);
            }
            String user = e.attrs().get("user_id");
            if (user != null && !user.isEmpty()) {
                x.distinct.add(user);
            }
        }
    }

    private static String attr(MasterRows.Event e, String name) {
        return e.attrs().getOrDefault(name, "");
    }
}
