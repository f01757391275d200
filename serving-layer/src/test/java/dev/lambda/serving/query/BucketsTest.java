package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.time.Granularity;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Buckets as a time zone's clocks have them; the expected instants are worked out from the zones' published rules. */
class BucketsTest {

    private static Instant t(String s) {
        return Instant.parse(s);
    }

    /** The bucket starts from the one {@code from} falls in, up to {@code to}. */
    private static List<Instant> starts(Buckets b, Instant from, Instant to) {
        List<Instant> starts = new ArrayList<>();
        for (Instant s = b.bucketOf(from); s.isBefore(to); s = b.next(s)) {
            starts.add(s);
        }
        return starts;
    }

    @Test
    void aDayOfNepalsTimeStartsAt1815Utc() {
        Buckets nepal = new Buckets(Granularity.DAY, ZoneId.of("Asia/Kathmandu")); // UTC+05:45, no daylight saving
        assertEquals(t("2026-11-20T18:15:00Z"), nepal.bucketOf(t("2026-11-21T10:00:00Z")));
        assertEquals(t("2026-11-21T18:15:00Z"), nepal.bucketOf(t("2026-11-21T18:15:00Z")), "local midnight starts the next day");
        assertEquals(t("2026-11-21T18:15:00Z"), nepal.next(t("2026-11-20T18:15:00Z")));
        assertEquals(2, nepal.count(t("2026-11-21T00:00:00Z"), t("2026-11-22T00:00:00Z")));
        assertTrue(nepal.splitsOn(Granularity.MINUTE, t("2026-11-01T00:00:00Z"), t("2026-11-22T00:00:00Z")));
        assertFalse(nepal.splitsOn(Granularity.HOUR, t("2026-11-01T00:00:00Z"), t("2026-11-22T00:00:00Z")));
        assertTrue(nepal.splitsOn(Granularity.HOUR, t("2026-11-21T00:00:00Z"), t("2026-11-21T18:00:00Z")), "no day starts inside");
    }

    @Test
    void berlinsDaysFollowItsClocksAcrossDaylightSaving() {
        Buckets berlin = new Buckets(Granularity.DAY, ZoneId.of("Europe/Berlin"));
        // clocks go forward at 01:00 UTC on 29 March 2026 (a day of 23 hours) and back at 01:00 UTC on 25 October (25 hours)
        assertEquals(List.of(t("2026-03-27T23:00:00Z"), t("2026-03-28T23:00:00Z"), t("2026-03-29T22:00:00Z")),
                starts(berlin, t("2026-03-28T12:00:00Z"), t("2026-03-30T12:00:00Z")));
        assertEquals(List.of(t("2026-10-24T22:00:00Z"), t("2026-10-25T23:00:00Z")), starts(berlin, t("2026-10-25T12:00:00Z"),
                t("2026-10-26T12:00:00Z")));
        assertTrue(berlin.splitsOn(Granularity.HOUR, t("2026-03-01T00:00:00Z"), t("2026-11-01T00:00:00Z")), "always whole hours");
        assertFalse(berlin.splitsOn(Granularity.DAY, t("2026-03-01T00:00:00Z"), t("2026-11-01T00:00:00Z")));
    }

    @Test
    void hoursOfHalfHourZonesAndOfAClockChangedByHalfAnHour() {
        Buckets india = new Buckets(Granularity.HOUR, ZoneId.of("Asia/Kolkata")); // UTC+05:30
        assertEquals(t("2026-11-21T09:30:00Z"), india.bucketOf(t("2026-11-21T10:00:00Z")));
        assertEquals(t("2026-11-21T10:30:00Z"), india.next(t("2026-11-21T09:30:00Z")));
        // Lord Howe Island: +10:30, then +11:00 from 02:00 local (15:30 UTC) on 4 October 2026: the clock jumps to 02:30
        Buckets lordHowe = new Buckets(Granularity.HOUR, ZoneId.of("Australia/Lord_Howe"));
        assertEquals(List.of(t("2026-10-03T14:30:00Z"), t("2026-10-03T15:30:00Z"), t("2026-10-03T16:00:00Z"), t("2026-10-03T17:00:00Z")),
                starts(lordHowe, t("2026-10-03T14:30:00Z"), t("2026-10-03T17:30:00Z")), "01:00, 02:30 (half an hour), 03:00, 04:00");
        Buckets berlin = new Buckets(Granularity.HOUR, ZoneId.of("Europe/Berlin"));
        assertEquals(List.of(t("2026-10-25T00:00:00Z"), t("2026-10-25T01:00:00Z"), t("2026-10-25T02:00:00Z")),
                starts(berlin, t("2026-10-25T00:00:00Z"), t("2026-10-25T03:00:00Z")), "02:00 twice, then 03:00");
    }

    /**
     * Around every change of the clocks from 1970 to 2037 in zones that change them in every way
     * there is (by an hour, by half an hour, at 02:45, at 00:01, skipping midnight, skipping a whole
     * day, back past midnight), minute by minute: each minute's bucket starts no later than it and
     * holds only minutes of one hour (or date) of the zone's clocks, and the buckets {@link
     * Buckets#next} walks through are exactly the places where the minutes' buckets change.
     */
    @Test
    void aroundEveryChangeOfTheClocksEachBucketIsOneHourOrDateOfThemAndNextWalksThemAll() {
        List<String> zones = List.of("Pacific/Chatham", "Australia/Lord_Howe", "Europe/Berlin", "America/New_York", "Antarctica/Casey",
                "America/Goose_Bay", "America/St_Johns", "America/Santiago", "Asia/Beirut", "Asia/Tehran", "America/Havana",
                "Pacific/Apia", "Asia/Kathmandu", "Asia/Kolkata", "Asia/Bishkek");
        int checked = 0;
        for (String name : zones) {
            ZoneId zone = ZoneId.of(name);
            for (ZoneOffsetTransition change = zone.getRules().nextTransition(t("1970-01-01T00:00:00Z"));
                 change != null && change.getInstant().isBefore(t("2038-01-01T00:00:00Z"));
                 change = zone.getRules().nextTransition(change.getInstant())) {
                for (Granularity g : List.of(Granularity.MINUTE, Granularity.HOUR, Granularity.DAY)) {
                    Duration around = g == Granularity.DAY ? Duration.ofHours(30) : Duration.ofHours(3);
                    checkAround(new Buckets(g, zone), change.getInstant().minus(around).truncatedTo(ChronoUnit.MINUTES),
                            change.getInstant().plus(around), name + " " + g + " around " + change);
                    checked++;
                }
            }
        }
        assertTrue(checked > 1000, "only " + checked + " changes of the clocks looked at");
    }

    private static void checkAround(Buckets b, Instant from, Instant to, String where) {
        List<Instant> changes = new ArrayList<>();
        Instant previous = b.bucketOf(from);
        Object previousClock = clock(b, from);
        for (Instant m = from.plus(1, ChronoUnit.MINUTES); m.isBefore(to); m = m.plus(1, ChronoUnit.MINUTES)) {
            Instant bucket = b.bucketOf(m);
            assertFalse(bucket.isAfter(m), where + ": " + m + " in a bucket starting after it, " + bucket);
            if (!bucket.equals(previous)) {
                changes.add(m);
            } else {
                assertEquals(previousClock, clock(b, m), where + ": " + m + " and the minute before it share bucket " + bucket);
            }
            previous = bucket;
            previousClock = clock(b, m);
        }
        List<Instant> walked = new ArrayList<>();
        for (Instant s = b.next(b.bucketOf(from)); s.isBefore(to); s = b.next(s)) {
            walked.add(s);
        }
        assertEquals(changes, walked, where);
    }

    /** What the zone's clocks show of a minute: itself, its hour on its date, or its date. */
    private static Object clock(Buckets b, Instant m) {
        ZonedDateTime local = m.atZone(b.zone());
        return switch (b.granularity()) {
            case MINUTE -> local.toLocalDateTime();
            case HOUR -> local.toLocalDateTime().truncatedTo(ChronoUnit.HOURS);
            case DAY -> local.toLocalDate();
        };
    }

    @Test
    void utcAndItsNamesAreOneZone() {
        for (String name : List.of("UTC", "Z", "+00:00", "Etc/UTC", "GMT")) {
            assertEquals(new Buckets(Granularity.HOUR, ZoneOffset.UTC), new Buckets(Granularity.HOUR, ZoneId.of(name)), name);
        }
        Buckets utc = new Buckets(Granularity.DAY, ZoneOffset.UTC);
        assertEquals(t("2026-11-21T00:00:00Z"), utc.bucketOf(t("2026-11-21T23:59:59Z")));
        assertEquals(t("2026-11-22T00:00:00Z"), utc.next(t("2026-11-21T00:00:00Z")));
    }
}
