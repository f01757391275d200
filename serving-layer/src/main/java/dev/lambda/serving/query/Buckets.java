package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;

/**
 * An answer's buckets: a granularity as the clocks of a time zone have it. A day is a date there
 * (Nepal's start at 18:15 UTC; Berlin's are 23 or 25 hours long when its clocks change); an hour
 * or a minute is one of its clocks, split where they change within it (Chatham Islands' change at
 * 02:45). A bucket starts no later than anything in it, and is labelled with that start. Stored
 * rows stay UTC: a zone's buckets are rolled up from the stored level whose boundaries they all
 * fall on (hour rows for a zone a whole number of hours from UTC).
 */
public record Buckets(Granularity granularity, ZoneId zone) {

    public Buckets {
        zone = zone.normalized(); // UTC, Z, +00:00 and Etc/UTC are one zone, and one cache key
    }

    public boolean utc() {
        return zone.equals(ZoneOffset.UTC);
    }

    /** The start of the bucket {@code time} falls in (never after it). */
    public Instant bucketOf(Instant time) {
        if (utc()) {
            return granularity.bucketOf(time);
        }
        ZoneRules rules = zone.getRules();
        ZoneOffsetTransition last = rules.previousTransition(time.plusNanos(1)); // the last change at or before time
        if (granularity != Granularity.DAY) {
            Instant start = time.atOffset(rules.getOffset(time)).truncatedTo(unit()).toInstant();
            return last != null && last.getInstant().isAfter(start) ? last.getInstant() : start; // the clocks changed within it
        }
        Instant start = dateAt(time).atStartOfDay(zone).toInstant();
        if (last != null && last.getInstant().isAfter(start) && dateAt(last.getInstant().minusNanos(1)).isAfter(dateAt(time))) {
            return last.getInstant(); // the clocks went back past midnight: this stretch of the date starts there
        }
        return start;
    }

    /** The start of the bucket after the one starting at {@code bucket}. */
    public Instant next(Instant bucket) {
        if (utc()) {
            return granularity.nextBucket(bucket);
        }
        ZoneRules rules = zone.getRules();
        Instant end = granularity != Granularity.DAY
                ? bucket.atOffset(rules.getOffset(bucket)).truncatedTo(unit()).plus(1, unit()).toInstant()
                : nextMidnight(bucket);
        // a change of the clocks before then ends a minute or an hour, and a day where they go back past midnight
        for (ZoneOffsetTransition change = rules.nextTransition(bucket); change != null && change.getInstant().isBefore(end);
             change = rules.nextTransition(change.getInstant())) {
            if (bucketOf(change.getInstant()).equals(change.getInstant())) {
                return change.getInstant();
            }
        }
        return end;
    }

    /** About how many buckets the range [from, to) touches (an hour the clocks split counts once): a budget. */
    public long count(Instant from, Instant to) {
        if (granularity == Granularity.DAY) {
            return Math.abs(ChronoUnit.DAYS.between(dateAt(from), dateAt(to.minusNanos(1)))) + 1;
        }
        long seconds = granularity == Granularity.HOUR ? 3600 : 60;
        return -Math.floorDiv(-Duration.between(bucketOf(from), to).toSeconds(), seconds);
    }

    /**
     * Whether every bucket boundary inside (from, to) is a boundary of {@code level}: then each row
     * of that level lies in one bucket, and rolling them up is exact.
     */
    public boolean splitsOn(Granularity level, Instant from, Instant to) {
        if (utc()) {
            return granularity.isCoarserOrEqual(level);
        }
        for (Instant b = next(bucketOf(from)); b.isBefore(to); b = next(b)) {
            if (!level.isBoundary(b)) {
                return false;
            }
        }
        return true;
    }

    private ChronoUnit unit() {
        return granularity == Granularity.HOUR ? ChronoUnit.HOURS : ChronoUnit.MINUTES;
    }

    /** The first midnight after {@code time}: the later of a midnight the clocks show twice, if the first is past. */
    private Instant nextMidnight(Instant time) {
        ZonedDateTime midnight = dateAt(time).plusDays(1).atStartOfDay(zone);
        return midnight.toInstant().isAfter(time) ? midnight.toInstant() : midnight.withLaterOffsetAtOverlap().toInstant();
    }

    private LocalDate dateAt(Instant time) {
        return time.atZone(zone).toLocalDate();
    }
}
