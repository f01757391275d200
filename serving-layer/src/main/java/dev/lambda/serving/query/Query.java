package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One validated query of a view.
 *
 * @param granularity output buckets; {@code null} means "all": one row per group over the range
 * @param metrics     indexes into the view's metrics, in the order asked for
 * @param groupBy     dimension names, in the order asked for
 * @param filters     dimension → allowed values
 * @param orderBy     "bucket" or a metric name
 * @param limit       most rows returned (the first ones in {@code orderBy} order), or 0 for every
 *                    row: an answer of more than {@link #MAX_ROWS} is then refused, never cut short
 * @param zone        the time zone whose clocks the buckets follow (normalized: UTC is {@link ZoneOffset#UTC}; UTC for all)
 */
public record Query(ViewDefinition view, Instant from, Instant to, Granularity granularity, List<Integer> metrics,
                    List<String> groupBy, Map<String, Set<String>> filters, String orderBy, boolean descending, int limit,
                    ZoneId zone) {

    /** The most rows one answer holds. */
    public static final int MAX_ROWS = 100_000;

    public Query {
        Objects.requireNonNull(view, "view");
        if (limit < 0 || limit > MAX_ROWS) {
            throw new IllegalArgumentException("limit must be 0 (every row) to " + MAX_ROWS + ", got " + limit);
        }
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        zone = granularity == null ? ZoneOffset.UTC : Objects.requireNonNull(zone, "zone").normalized(); // all has no buckets to place
        metrics = List.copyOf(metrics);
        groupBy = List.copyOf(groupBy);
        filters = Map.copyOf(filters);
    }

    /** A query of UTC buckets. */
    public Query(ViewDefinition view, Instant from, Instant to, Granularity granularity, List<Integer> metrics, List<String> groupBy,
                 Map<String, Set<String>> filters, String orderBy, boolean descending, int limit) {
        this(view, from, to, granularity, metrics, groupBy, filters, orderBy, descending, limit, ZoneOffset.UTC);
    }

    public boolean isAll() {
        return granularity == null;
    }

    /** The answer's buckets; {@code null} for "all". */
    public Buckets buckets() {
        return granularity == null ? null : new Buckets(granularity, zone);
    }
}
