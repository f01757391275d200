package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
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
