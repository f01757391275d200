package dev.lambda.common.time;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The time levels views are materialized at (DESIGN §3, §6): the bucket of an event time at each
 * level, UTC, and the Cassandra partition period that holds a bucket's rows. Coarser levels are
 * later constants, so a view at base level {@code b} is stored at {@code b.andCoarser()}.
 */
public enum Granularity {
    MINUTE,
    HOUR,
    DAY;

    /** The lower-case name used in YAML, CQL rows and the HTTP API. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Granularity fromId(String id) {
        for (Granularity g : values()) {
            if (g.id().equals(id)) {
                return g;
            }
        }
        throw new IllegalArgumentException("unknown granularity \"" + id + "\" (expected minute, hour or day)");
    }

    /** The bucket an instant falls in: the instant truncated to this level, UTC. */
    public Instant bucketOf(Instant time) {
        return switch (this) {
            case MINUTE -> time.truncatedTo(ChronoUnit.MINUTES);
            case HOUR -> time.truncatedTo(ChronoUnit.HOURS);
            case DAY -> time.truncatedTo(ChronoUnit.DAYS);
        };
    }

    /** The bucket after {@code bucket} (buckets are contiguous). */
    public Instant nextBucket(Instant bucket) {
        return switch (this) {
            case MINUTE -> bucket.plus(1, ChronoUnit.MINUTES);
            case HOUR -> bucket.plus(1, ChronoUnit.HOURS);
            case DAY -> bucket.plus(1, ChronoUnit.DAYS);
        };
    }

    /**
     * The partition period of a bucket at this level: the hour for minute rows, the day for hour
     * rows, the first day of the month for day rows. Keeps every Cassandra partition bounded.
     */
    public Instant periodOf(Instant bucket) {
        return switch (this) {
            case MINUTE -> bucket.truncatedTo(ChronoUnit.HOURS);
            case HOUR -> bucket.truncatedTo(ChronoUnit.DAYS);
            case DAY -> LocalDate.ofInstant(bucket, ZoneOffset.UTC).withDayOfMonth(1)
                    .atStartOfDay(ZoneOffset.UTC).toInstant();
        };
    }

    /** The period after {@code period}. */
    public Instant nextPeriod(Instant period) {
        return switch (this) {
            case MINUTE -> period.plus(1, ChronoUnit.HOURS);
            case HOUR -> period.plus(1, ChronoUnit.DAYS);
            case DAY -> LocalDate.ofInstant(period, ZoneOffset.UTC).plusMonths(1)
                    .atStartOfDay(ZoneOffset.UTC).toInstant();
        };
    }

    /** The periods whose buckets intersect {@code [from, to)}, in order. */
    public List<Instant> periodsCovering(Instant from, Instant to) {
        if (!to.isAfter(from)) {
            return List.of();
        }
        var periods = new java.util.ArrayList<Instant>();
        for (Instant p = periodOf(bucketOf(from)); p.isBefore(to); p = nextPeriod(p)) {
            periods.add(p);
        }
        return List.copyOf(periods);
    }

    /** Whether {@code time} is exactly a bucket boundary of this level. */
    public boolean isBoundary(Instant time) {
        return bucketOf(time).equals(time);
    }

    /** Whether this level is at least as coarse as {@code other}. */
    public boolean isCoarserOrEqual(Granularity other) {
        return ordinal() >= other.ordinal();
    }

    /** This level and every coarser one, finest first: the levels a view with this base is stored at. */
    public List<Granularity> andCoarser() {
        return Arrays.asList(values()).subList(ordinal(), values().length);
    }
}
