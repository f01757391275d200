package dev.lambda.system;

import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.MetricType;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One query a BI tool could send, and its URL. Random ones mix granularities, ranges that cross the
 * cutoff (recent minutes), reach late events (hours, days back) or start off a coarser bucket's
 * boundary, metric subsets, group-bys, IN filters, top-N by an exact metric, and hours or days of a
 * time zone other than UTC.
 *
 * @param orderBy a metric name, or {@code null} for bucket order
 * @param limit   0 for none
 * @param zone    whose clocks the buckets follow ({@code null}: UTC, the parameter left out)
 */
record QuerySpec(ViewDefinition view, Instant from, Instant to, String granularity, List<MetricSpec> metrics,
                 List<String> groupBy, Map<String, Set<String>> filters, String orderBy, boolean descending, int limit, ZoneId zone) {

    private static final Map<String, List<String>> DIMENSION_VALUES = Map.of(
            "country", List.of("NP", "IN", "US", "DE", "BR"),
            "page", List.of("/", "/pricing", "/docs", "/blog", "/cart"),
            "product", List.of("p1", "p2", "p3", "p4", "p5", "p6"));

    static QuerySpec random(Random random, ViewCatalog views, Instant now) {
        ViewDefinition view = views.views().get(random.nextInt(views.views().size()));
        boolean hourBase = view.granularity().id().equals("hour");
        ChronoUnit base = hourBase ? ChronoUnit.HOURS : ChronoUnit.MINUTES;
        List<String> granularities = new ArrayList<>(hourBase ? List.of("hour", "day", "all") : List.of("minute", "hour", "day", "all"));
        String granularity = granularities.get(random.nextInt(granularities.size()));
        Instant from;
        Instant to;
        int shape = random.nextInt(3);
        if (granularity.equals("minute") || shape == 0) {
            // recent: crosses the batch cutoff, starts off an hour boundary
            from = now.minus(Duration.ofMinutes(5 + random.nextInt(150))).truncatedTo(base);
            to = now.plus(Duration.ofMinutes(1 + random.nextInt(30))).truncatedTo(base).plus(1, base);
        } else if (shape == 1) {
            // whole days, reaching the very late events
            from = now.truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(1 + random.nextInt(11)));
            to = now.truncatedTo(ChronoUnit.DAYS).plus(Duration.ofDays(1));
        } else {
            // an arbitrary window on the view's base boundaries, over the last day
            Instant a = now.minus(Duration.ofMinutes(random.nextInt(26 * 60))).truncatedTo(base);
            Instant b = now.minus(Duration.ofMinutes(random.nextInt(26 * 60))).truncatedTo(base);
            from = a.isBefore(b) ? a : b;
            to = (a.isBefore(b) ? b : a).plus(1, base);
        }
        List<MetricSpec> metrics = new ArrayList<>(view.metrics());
        Collections.shuffle(metrics, random);
        metrics = new ArrayList<>(metrics.subList(0, 1 + random.nextInt(metrics.size())));
        metrics.sort((x, y) -> view.metricIndex(x.name()) - view.metricIndex(y.name()));
        List<String> groupBy = new ArrayList<>();
        for (String d : view.dimensions()) {
            if (random.nextInt(3) == 0) {
                groupBy.add(d);
            }
        }
        Map<String, Set<String>> filters = new LinkedHashMap<>();
        if (random.nextInt(3) == 0) {
            String d = view.dimensions().get(random.nextInt(view.dimensions().size()));
            List<String> values = new ArrayList<>(DIMENSION_VALUES.get(d));
            Collections.shuffle(values, random);
            filters.put(d, new LinkedHashSet<>(values.subList(0, 1 + random.nextInt(2))));
        }
        String orderBy = null;
        boolean descending = random.nextBoolean();
        int limit = 0;
        List<MetricSpec> exact = metrics.stream().filter(m -> m.type() != MetricType.DISTINCT).toList();
        if (!exact.isEmpty() && random.nextInt(5) < 2) {
            orderBy = exact.get(random.nextInt(exact.size())).name();
            limit = 1 + random.nextInt(10);
        }
        ZoneId zone = null;
        if ((granularity.equals("hour") || granularity.equals("day")) && random.nextInt(3) == 0) {
            // a view of hours can follow only zones a whole number of hours from UTC; minutes, any
            List<String> zones = hourBase ? List.of("Europe/Berlin", "America/New_York")
                    : List.of("Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Asia/Kolkata");
            zone = ZoneId.of(zones.get(random.nextInt(zones.size())));
        }
        return new QuerySpec(view, from, to, granularity, metrics, groupBy, filters, orderBy, descending, limit, zone);
    }

    String path() {
        StringBuilder q = new StringBuilder("/api/v1/views/").append(view.name()).append("/query?from=").append(from)
                .append("&to=").append(to).append("&granularity=").append(granularity)
                .append("&metrics=").append(metrics.stream().map(MetricSpec::name).collect(Collectors.joining(",")));
        if (!groupBy.isEmpty()) {
            q.append("&groupBy=").append(String.join(",", groupBy));
        }
        filters.forEach((d, values) -> q.append("&filter=").append(encode(d + ":" + String.join(",", values))));
        if (orderBy != null || descending) {
            q.append("&orderBy=").append(descending ? "-" : "").append(orderBy == null ? "bucket" : orderBy);
        }
        if (limit > 0) {
            q.append("&limit=").append(limit);
        }
        if (zone != null) {
            q.append("&timeZone=").append(encode(zone.getId()));
        }
        return q.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
