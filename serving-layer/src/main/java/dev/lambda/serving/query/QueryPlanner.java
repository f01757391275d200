package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Chooses the stored level a query reads (DESIGN §3): the coarsest level, among the view's base
 * and coarser ones, that is no coarser than the requested granularity and on whose bucket
 * boundaries both ends of the range fall, so the answer is exact and reads as few rows as possible.
 * Also enforces the row budgets.
 */
public final class QueryPlanner {

    private final long maxBuckets;
    private final long maxReadBuckets;

    /**
     * @param maxBuckets     most output buckets a query may ask for (range / granularity)
     * @param maxReadBuckets most stored buckets a query may read (range / read level)
     */
    public QueryPlanner(long maxBuckets, long maxReadBuckets) {
        this.maxBuckets = maxBuckets;
        this.maxReadBuckets = maxReadBuckets;
    }

    /**
     * The level to read; for buckets of a time zone, also every bucket boundary inside the range must
     * be one of the level's (a day of Nepal's time, starting at 18:15 UTC, is rolled up from minute rows).
     *
     * @param buckets the answer's, {@code null} for granularity all
     */
    public Granularity readLevel(ViewDefinition view, Instant from, Instant to, Buckets buckets) {
        Granularity requested = buckets == null ? null : buckets.granularity();
        if (buckets != null) {
            long count = buckets.count(from, to);
            if (count > maxBuckets) {
                throw QueryException.badParameter("granularity", "the range holds " + count + " " + requested.id()
                        + " buckets, more than the limit of " + maxBuckets + "; ask for a coarser granularity"
                        + suggestion(requested) + " or a shorter range");
            }
        }
        Granularity chosen = null;
        for (Granularity level : view.levels()) {
            boolean fine = requested == null || requested.isCoarserOrEqual(level);
            if (fine && level.isBoundary(from) && level.isBoundary(to) && (buckets == null || buckets.splitsOn(level, from, to))) {
                chosen = level;
            }
        }
        boolean onBase = view.granularity().isBoundary(from) && view.granularity().isBoundary(to);
        boolean onZoneBuckets = buckets != null && !buckets.utc() && buckets.bucketOf(from).equals(from) && buckets.bucketOf(to).equals(to);
        if (chosen == null && (onBase || onZoneBuckets)) {
            // the base would do for UTC buckets (or the range is the zone's own, as align=outer makes it): no level holds the zone's
            throw QueryException.badParameter("timeZone", "the " + requested.id() + " buckets of time zone " + buckets.zone().getId()
                    + " do not start on " + view.granularity().id() + " boundaries in this range, and view " + view.name()
                    + " keeps nothing finer than " + view.granularity().id() + ": ask for UTC, or a zone whose " + requested.id()
                    + "s start on them");
        }
        if (chosen == null) {
            String parameter = view.granularity().isBoundary(from) ? "to" : "from";
            throw QueryException.badParameter(parameter, parameter + " must fall on a " + view.granularity().id()
                    + " boundary, the finest level view " + view.name() + " keeps (e.g. "
                    + view.granularity().bucketOf(parameter.equals("to") ? to : from) + "); align=outer widens the range to whole buckets");
        }
        long read = buckets(from, to, chosen);
        if (read > maxReadBuckets) {
            Granularity level = chosen;
            // a coarser level reads fewer buckets, if the view keeps one no coarser than the granularity asked for, and from
            // and to fall on its boundaries
            List<String> coarser = view.levels().stream()
                    .filter(l -> l != level && l.isCoarserOrEqual(level) && (requested == null || requested.isCoarserOrEqual(l))
                            && (buckets == null || buckets.splitsOn(l, from, to)))
                    .map(l -> l == Granularity.HOUR ? "hours" : "days").toList();
            throw QueryException.badParameter("from", "the range needs " + read + " " + chosen.id() + " buckets, more than the limit of "
                    + maxReadBuckets + "; " + (coarser.isEmpty() ? "" : "align from and to to whole " + String.join(" or ", coarser) + " or ")
                    + "shorten the range");
        }
        return chosen;
    }

    private static String suggestion(Granularity g) {
        return switch (g) {
            case MINUTE -> " (hour or day)";
            case HOUR -> " (day)";
            case DAY -> " (all)";
        };
    }

    static long buckets(Instant from, Instant to, Granularity g) {
        Duration span = Duration.between(from, to);
        return switch (g) {
            case MINUTE -> ceilDiv(span.toSeconds(), 60);
            case HOUR -> ceilDiv(span.toSeconds(), 3600);
            case DAY -> ChronoUnit.DAYS.between(Granularity.DAY.bucketOf(from), Granularity.DAY.bucketOf(to.minusNanos(1))) + 1;
        };
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
