package dev.lambda.common.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GranularityTest {

    private static Instant t(String iso) {
        return Instant.parse(iso);
    }

    @Test
    void bucketsAtMidnightAndJustBefore() {
        Instant lastMilli = t("2026-11-21T23:59:59.999Z");
        assertEquals(t("2026-11-21T23:59:00Z"), Granularity.MINUTE.bucketOf(lastMilli));
        assertEquals(t("2026-11-21T23:00:00Z"), Granularity.HOUR.bucketOf(lastMilli));
        assertEquals(t("2026-11-21T00:00:00Z"), Granularity.DAY.bucketOf(lastMilli));
        Instant midnight = t("2026-11-22T00:00:00Z");
        for (Granularity g : Granularity.values()) {
            assertEquals(midnight, g.bucketOf(midnight));
            assertTrue(g.isBoundary(midnight));
        }
    }

    @Test
    void bucketsAreUtcWhateverTheOffsetOfTheEventTime() {
        Instant fromNepal = java.time.OffsetDateTime.parse("2026-11-22T05:30:00+05:45").toInstant();
        assertEquals(t("2026-11-21T00:00:00Z"), Granularity.DAY.bucketOf(fromNepal));
    }

    @Test
    void periodsBoundPartitionsAtMonthEndAndLeapDay() {
        assertEquals(t("2026-11-21T23:00:00Z"), Granularity.MINUTE.periodOf(t("2026-11-21T23:59:00Z")));
        assertEquals(t("2026-11-21T00:00:00Z"), Granularity.HOUR.periodOf(t("2026-11-21T23:00:00Z")));
        assertEquals(t("2026-11-01T00:00:00Z"), Granularity.DAY.periodOf(t("2026-11-30T00:00:00Z")));
        assertEquals(t("2028-02-01T00:00:00Z"), Granularity.DAY.periodOf(t("2028-02-29T00:00:00Z")));
        assertEquals(t("2028-03-01T00:00:00Z"), Granularity.DAY.nextPeriod(t("2028-02-01T00:00:00Z")));
        assertEquals(t("2027-01-01T00:00:00Z"), Granularity.DAY.nextPeriod(t("2026-12-01T00:00:00Z")));
        assertEquals(t("2028-02-29T00:00:00Z"), Granularity.DAY.nextBucket(t("2028-02-28T00:00:00Z")));
        assertEquals(t("2028-03-01T00:00:00Z"), Granularity.DAY.nextBucket(t("2028-02-29T00:00:00Z")));
    }

    @Test
    void randomInstantsFallInsideTheirBucketAndPeriod() {
        Random random = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            Instant time = Instant.ofEpochMilli(random.nextLong(0, 4_102_444_800_000L)); // 1970 .. 2100
            LocalDateTime utc = LocalDateTime.ofInstant(time, ZoneOffset.UTC);
            for (Granularity g : Granularity.values()) {
                Instant bucket = g.bucketOf(time);
                assertFalse(bucket.isAfter(time));
                assertTrue(g.nextBucket(bucket).isAfter(time));
                Instant period = g.periodOf(bucket);
                assertFalse(period.isAfter(bucket));
                assertTrue(g.nextPeriod(period).isAfter(bucket));
            }
            assertEquals(utc.withDayOfMonth(1).toLocalDate().atStartOfDay().toInstant(ZoneOffset.UTC),
                    Granularity.DAY.periodOf(Granularity.DAY.bucketOf(time)));
        }
    }

    @Test
    void periodsCoveringARange() {
        assertEquals(List.of(t("2026-11-21T09:00:00Z"), t("2026-11-21T10:00:00Z")),
                Granularity.MINUTE.periodsCovering(t("2026-11-21T09:30:00Z"), t("2026-11-21T10:01:00Z")));
        assertEquals(List.of(t("2026-11-21T09:00:00Z")),
                Granularity.MINUTE.periodsCovering(t("2026-11-21T09:30:00Z"), t("2026-11-21T10:00:00Z")));
        assertEquals(List.of(t("2028-01-01T00:00:00Z"), t("2028-02-01T00:00:00Z"), t("2028-03-01T00:00:00Z")),
                Granularity.DAY.periodsCovering(t("2028-01-31T00:00:00Z"), t("2028-03-02T00:00:00Z")));
        assertEquals(List.of(), Granularity.HOUR.periodsCovering(t("2026-11-21T10:00:00Z"), t("2026-11-21T10:00:00Z")));
    }

    @Test
    void levelsFromABase() {
        assertEquals(List.of(Granularity.MINUTE, Granularity.HOUR, Granularity.DAY), Granularity.MINUTE.andCoarser());
        assertEquals(List.of(Granularity.DAY), Granularity.DAY.andCoarser());
        assertEquals(Granularity.HOUR, Granularity.fromId("hour"));
    }
}
