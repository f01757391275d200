package dev.lambda.serving.http;

import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.query.Buckets;
import dev.lambda.serving.query.Query;
import dev.lambda.serving.query.QueryException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns the query parameters of {@code /api/v1/views/{view}/query} into a validated {@link Query},
 * once, naming the parameter in every error.
 */
public final class QueryParser {

    static final int MAX_LIMIT = Query.MAX_ROWS;
    static final int MAX_FILTERS = 50;
    static final int MAX_VALUES = 1_000;
    /** The query's parameters; the last, {@code _}, is ignored: the cache-buster jQuery and spreadsheet users add. */
    private static final List<String> PARAMETERS = List.of("from", "to", "align", "granularity", "timeZone", "metrics", "groupBy",
            "filter", "orderBy", "limit", "format", "_");
    /** 12 to 15 digits: 1973 to the year 33658 (the range check names what is past 9999); other numbers are refused. */
    private static final Pattern EPOCH_MILLIS = Pattern.compile("[1-9][0-9]{11,14}");
    private static final Pattern NUMBER = Pattern.compile("[0-9]+");

    /** The times a query may name: years 1 to 9999, well inside what a timestamp in milliseconds holds. */
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("+10000-01-01T00:00:00Z");

    private QueryParser() {
    }

    /**
     * Refuses a query string with a {@code %} not followed by two hex digits, naming its parameter:
     * the server's decoding would otherwise drop that parameter without a word, and a dropped
     * filter answers for every value.
     */
    public static void checkEscapes(String rawQuery) {
        if (rawQuery == null) {
            return;
        }
        for (String pair : rawQuery.split("&")) {
            for (int i = pair.indexOf('%'); i >= 0; i = pair.indexOf('%', i + 1)) {
                if (i + 2 >= pair.length() || Character.digit(pair.charAt(i + 1), 16) < 0 || Character.digit(pair.charAt(i + 2), 16) < 0) {
                    int eq = pair.indexOf('=');
                    String name = eq < 0 ? pair : pair.substring(0, eq);
                    throw QueryException.badParameter(name, "parameter " + abbreviate(name) + " has a % not followed by two hex digits (a"
                            + " malformed %-escape): write a % itself as %25; got \"" + abbreviate(pair) + "\"");
                }
            }
        }
    }

    public static Query parse(ViewDefinition view, Map<String, List<String>> params) {
        for (String name : params.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw QueryException.badParameter(name, "unknown parameter " + abbreviate(name) + " (expected "
                        + String.join(", ", PARAMETERS.subList(0, PARAMETERS.size() - 1)) + "; _ is let through as a cache-buster)");
            }
        }
        Instant from = time(required(params, "from"), "from");
        Instant to = time(required(params, "to"), "to");
        if (!to.isAfter(from)) {
            throw QueryException.badParameter("to", "to (" + to + ") must be after from (" + from + ")");
        }
        Granularity granularity = granularity(view, single(params, "granularity"));
        ZoneId zone = zone(single(params, "timeZone"));
        if (alignOuter(single(params, "align"))) {
            // whole buckets of the granularity asked for (of the view's base for all): Grafana's ranges end at 10:59:59.999
            Buckets b = granularity == null ? new Buckets(view.granularity(), ZoneOffset.UTC) : new Buckets(granularity, zone);
            from = b.bucketOf(from);
            Instant widened = b.bucketOf(to);
            while (widened.isBefore(to)) {
                widened = b.next(widened);
            }
            to = widened;
            if (!to.isBefore(LATEST) || from.isBefore(EARLIEST)) {
                String end = from.isBefore(EARLIEST) ? "from" : "to";
                throw QueryException.badParameter(end, end + ", widened by align=outer to " + (from.isBefore(EARLIEST) ? from : to)
                        + ", is outside the times a query can ask for (" + EARLIEST + " to " + LATEST + ")");
            }
        }
        List<Integer> metrics = metrics(view, single(params, "metrics"));
        List<String> groupBy = groupBy(view, single(params, "groupBy"));
        Map<String, Set<String>> filters = filters(view, params.getOrDefault("filter", List.of()));
        String orderText = single(params, "orderBy");
        boolean descending = orderText != null && orderText.startsWith("-");
        String orderBy = orderText == null ? "bucket" : (descending ? orderText.substring(1) : orderText);
        if (!orderBy.equals("bucket")) {
            int index = view.metricIndex(orderBy);
            if (index < 0 || !metrics.contains(index)) {
                throw QueryException.badParameter("orderBy", "orderBy must be bucket or one of the requested metrics "
                        + names(view, metrics) + ", optionally with a - prefix for descending; got " + orderText);
            }
        }
        int limit = limit(single(params, "limit"));
        return new Query(view, from, to, granularity, metrics, groupBy, filters, orderBy, descending, limit, zone);
    }

    /**
     * An ISO-8601 instant with offset, a date (midnight UTC), or milliseconds since the epoch (what
     * Grafana's {@code ${__from}} gives), within years 1 to 9999.
     */
    static Instant time(String text, String parameter) {
        if (NUMBER.matcher(text).matches() && !EPOCH_MILLIS.matcher(text).matches()) {
            // fewer digits are seconds more likely than not; more, microseconds
            throw QueryException.badParameter(parameter, parameter + " " + abbreviate(text) + " is not milliseconds since the epoch: they"
                    + " have 12 to 15 digits, the first not 0 (1795255200000); seconds must be multiplied by 1000");
        }
        try {
            Instant time = EPOCH_MILLIS.matcher(text).matches() ? Instant.ofEpochMilli(Long.parseLong(text))
                    : text.length() == 10 ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : OffsetDateTime.parse(text).toInstant();
            if (time.isBefore(EARLIEST) || !time.isBefore(LATEST)) {
                throw QueryException.badParameter(parameter, parameter + " " + abbreviate(text)
                        + " is outside the times a query can ask for (" + EARLIEST + " to " + LATEST + ")");
            }
            return time;
        } catch (DateTimeParseException e) {
            // an unencoded + in a query string arrives as a space
            String plus = text.contains(" ") ? "; a + in a URL must be written %2B (2026-11-21T10:00:00%2B05:45)" : "";
            throw QueryException.badParameter(parameter, parameter + " \"" + abbreviate(text)
                    + "\" is not an ISO-8601 time with offset (2026-11-21T10:00:00Z), a date (2026-11-21) or milliseconds since the"
                    + " epoch (1795255200000)" + plus);
        }
    }

    /** The time zone whose clocks the buckets follow: an IANA zone, UTC or an offset; UTC when left out. */
    private static ZoneId zone(String text) {
        if (text == null || text.equalsIgnoreCase("utc")) { // Grafana's ${__timezone} says utc
            return ZoneOffset.UTC;
        }
        try {
            return ZoneId.of(text);
        } catch (DateTimeException e) {
            String plus = text.startsWith(" ") ? "; a + in a URL must be written %2B (%2B05:45)" : "";
            throw QueryException.badParameter("timeZone", "timeZone must be an IANA time zone (Asia/Kathmandu, Europe/Berlin), UTC or"
                    + " an offset (+05:45); got \"" + abbreviate(text) + "\"" + plus);
        }
    }

    private static boolean alignOuter(String text) {
        if (text != null && !text.equals("outer")) {
            throw QueryException.badParameter("align", "align must be outer (from down and to up to whole buckets), or left out for"
                    + " the range as given; got \"" + abbreviate(text) + "\"");
        }
        return text != null;
    }

    private static Granularity granularity(ViewDefinition view, String text) {
        if (text == null) {
            return view.granularity();
        }
        if (text.equals("all")) {
            return null;
        }
        Granularity g;
        try {
            g = Granularity.fromId(text);
        } catch (IllegalArgumentException e) {
            throw QueryException.badParameter("granularity", "granularity must be minute, hour, day or all; got \"" + abbreviate(text) + "\"");
        }
        if (!g.isCoarserOrEqual(view.granularity())) {
            throw QueryException.badParameter("granularity", "view " + view.name() + " keeps nothing finer than "
                    + view.granularity().id() + "; ask for " + view.granularity().id() + " or coarser");
        }
        return g;
    }

    private static List<Integer> metrics(ViewDefinition view, String text) {
        List<Integer> metrics = new ArrayList<>();
        if (text == null) {
            for (int i = 0; i < view.metrics().size(); i++) {
                metrics.add(i);
            }
            return metrics;
        }
        for (String name : text.split(",")) {
            int index = view.metricIndex(name.trim());
            if (index < 0) {
                throw QueryException.badParameter("metrics", "unknown metric \"" + abbreviate(name.trim()) + "\" of view " + view.name()
                        + " (it has " + names(view, null) + ")");
            }
            if (!metrics.contains(index)) {
                metrics.add(index);
            }
        }
        if (metrics.isEmpty()) {
            throw QueryException.badParameter("metrics", "metrics names no metric of view " + view.name() + " (it has " + names(view, null)
                    + "); leave it out for all of them");
        }
        return metrics;
    }

    private static List<String> groupBy(ViewDefinition view, String text) {
        List<String> groups = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return groups;
        }
        for (String d : text.split(",")) {
            String dim = d.trim();
            if (!view.dimensions().contains(dim)) {
                throw QueryException.badParameter("groupBy", "unknown dimension \"" + abbreviate(dim) + "\" of view " + view.name()
                        + " (it has " + view.dimensions() + ")");
            }
            if (!groups.contains(dim)) {
                groups.add(dim);
            }
        }
        return groups;
    }

    private static Map<String, Set<String>> filters(ViewDefinition view, List<String> texts) {
        if (texts.size() > MAX_FILTERS) {
            throw QueryException.badParameter("filter", "at most " + MAX_FILTERS + " filters");
        }
        Map<String, Set<String>> filters = new LinkedHashMap<>();
        for (String text : texts) {
            int colon = text.indexOf(':');
            if (colon <= 0) {
                throw QueryException.badParameter("filter", "filter must be dimension:value1,value2; got \"" + abbreviate(text) + "\"");
            }
            String dim = text.substring(0, colon);
            if (!view.dimensions().contains(dim)) {
                throw QueryException.badParameter("filter", "unknown dimension \"" + abbreviate(dim) + "\" of view " + view.name()
                        + " (it has " + view.dimensions() + ")");
            }
            Set<String> values = new LinkedHashSet<>(filterValues(text.substring(colon + 1)));
            if (values.size() > MAX_VALUES) {
                throw QueryException.badParameter("filter", "at most " + MAX_VALUES + " values per filter");
            }
            filters.merge(dim, values, (a, b) -> {
                Set<String> both = new LinkedHashSet<>(a);
                both.retainAll(b); // two filters on one dimension must both hold
                return both;
            });
        }
        return filters;
    }

    /**
     * A filter's values: separated by commas; within a value {@code \,} is a comma and
     * {@code \\} a backslash, so any value can be named. A backslash before anything else is
     * refused rather than guessed at.
     */
    static List<String> filterValues(String text) {
        List<String> values = new ArrayList<>();
        StringBuilder value = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',') {
                values.add(value.toString());
                value.setLength(0);
            } else if (c != '\\') {
                value.append(c);
            } else if (i + 1 < text.length() && (text.charAt(i + 1) == ',' || text.charAt(i + 1) == '\\')) {
                value.append(text.charAt(++i));
            } else {
                throw QueryException.badParameter("filter", "in a filter value a backslash escapes a comma (\\,) or a backslash"
                        + " (\\\\), nothing else; got \"" + abbreviate(text) + "\"");
            }
        }
        values.add(value.toString());
        return values;
    }

    private static int limit(String text) {
        if (text == null) {
            return 0; // every row
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit < 1 || limit > MAX_LIMIT) {
                throw QueryException.badParameter("limit", "limit must be between 1 and " + MAX_LIMIT + "; got " + limit);
            }
            return limit;
        } catch (NumberFormatException e) {
            throw QueryException.badParameter("limit", "limit must be a whole number; got \"" + abbreviate(text) + "\"");
        }
    }

    private static String required(Map<String, List<String>> params, String name) {
        String value = single(params, name);
        if (value == null || value.isBlank()) {
            throw QueryException.badParameter(name, name + " is required");
        }
        return value;
    }

    /** The format asked for: json, csv, or {@code null} when left out (then the Accept header decides). */
    public static String format(Map<String, List<String>> params) {
        String format = single(params, "format");
        if (format != null && !format.equals("json") && !format.equals("csv")) {
            throw QueryException.badParameter("format", "format must be json or csv; got \"" + abbreviate(format) + "\"");
        }
        return format;
    }

    private static String single(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw QueryException.badParameter(name, name + " may be given once");
        }
        return values.get(0);
    }

    private static List<String> names(ViewDefinition view, List<Integer> only) {
        List<String> names = new ArrayList<>();
        List<MetricSpec> metrics = view.metrics();
        for (int i = 0; i < metrics.size(); i++) {
            if (only == null || only.contains(i)) {
                names.add(metrics.get(i).name());
            }
        }
        return names;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }
}
