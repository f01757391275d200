package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;

/**
 * An answer's buckets: a granularity as the clocks of a time zone have it. An hour or a day starts
 * where it starts there (a day of Nepal's time at 18:15 UTC; a day of 23 or 25 hours where the
 * clocks change), so a day's total is that zone's day. Stored rows stay UTC: a zone's buckets are
 * rolled up from the stored level whose boundaries they all fall on (hour rows for a zone a whole
 * number of hours from UTC).
 */
public record Buckets(Granularity granularity, ZoneId zone) {

    public Buckets {
        zone = zone.normalized(); // UTC, Z, +00:00 and Etc/UTC are one zone, and one cache key
    }

    public boolean utc() {
        return zone.equals(ZoneOffset.UTC);
    }

    /** The start of the bucket {@code time} falls in. */
    public Instant bucketOf(Instant time) {
        if (utc()) {
            return granularity.bucketOf(time);
        }
        return switch (granularity) {
            case MINUTE -> time.atZone(zone).truncatedTo(ChronoUnit.MINUTES).toInstant();
            case HOUR -> time.atZone(zone).truncatedTo(ChronoUnit.HOURS).toInstant();
            case DAY -> time.atZone(zone).toLocalDate().atStartOfDay(zone).toInstant();
        };
    }

    /** The start of the bucket after the one starting at {@code bucket}. */
    public Instant next(Instant bucket) {
        if (utc() || granularity == Granularity.MINUTE) {
            return granularity.nextBucket(bucket);
        }
        if (granularity == Granularity.DAY) {
            return bucket.atZone(zone).toLocalDate().plusDays(1).atStartOfDay(zone).toInstant();
        }
        Instant plain = bucket.plus(1, ChronoUnit.HOURS);
        ZoneOffsetTransition change = zone.getRules().nextTransition(bucket);
        if ((change == null || change.getInstant().isAfter(plain)) && bucketOf(plain).equals(plain)) {
            return plain; // the clocks do not change within the hour, which began on the hour: it ends an hour later
        }
        // they do, or did as it began (by 30 minutes in some zones): the first minute that starts a bucket of its own
        for (Instant minute = bucket.plus(1, ChronoUnit.MINUTES); ; minute = minute.plus(1, ChronoUnit.MINUTES)) {
            Instant start = bucketOf(minute);
            if (start.isAfter(bucket)) {
                return start;
            }
        }
    }

    /** How many buckets the range [from, to) touches. */
    public long count(Instant from, Instant to) {
        if (granularity == Granularity.DAY) {
            return ChronoUnit.DAYS.between(from.atZone(zone).toLocalDate(), to.minusNanos(1).atZone(zone).toLocalDate()) + 1;
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
}
