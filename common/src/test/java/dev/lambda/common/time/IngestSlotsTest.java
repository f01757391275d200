package dev.lambda.common.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IngestSlotsTest {

    private final IngestSlots hourly = new IngestSlots(Duration.ofHours(1));
    private final IngestSlots minutely = new IngestSlots(Duration.ofMinutes(1));

    @Test
    void slotOfAKafkaTimestampAtItsEdges() {
        Instant boundary = Instant.parse("2026-11-22T00:00:00Z");
        assertEquals(boundary, hourly.slotOf(boundary.toEpochMilli()));
        assertEquals(Instant.parse("2026-11-21T23:00:00Z"), hourly.slotOf(boundary.toEpochMilli() - 1));
        assertEquals(Instant.parse("2026-11-21T23:59:00Z"), minutely.slotOf(boundary.toEpochMilli() - 1));
    }

    @Test
    void cutoffIsTheSlotBoundaryAtOrBeforeStartMinusMargin() {
        Instant start = Instant.parse("2026-11-21T10:07:30Z");
        assertEquals(Instant.parse("2026-11-21T10:00:00Z"), hourly.cutoff(start, Duration.ofMinutes(5)));
        assertEquals(Instant.parse("2026-11-21T09:00:00Z"), hourly.cutoff(start, Duration.ofMinutes(8)));
        assertEquals(Instant.parse("2026-11-21T10:05:00Z"), minutely.cutoff(start, Duration.ofMinutes(2)));
        assertTrue(hourly.isBoundary(hourly.cutoff(start, Duration.ZERO)));
    }

    @Test
    void everyIngestTimeGoesToExactlyOneSideOfTheCutoff() {
        Random random = new Random(17);
        for (int i = 0; i < 10_000; i++) {
            Instant cutoff = minutely.floor(Instant.ofEpochMilli(random.nextLong(1_600_000_000_000L, 1_900_000_000_000L)));
            long ingest = cutoff.toEpochMilli() + random.nextLong(-180_000, 180_000);
            boolean batch = IngestSlots.beforeCutoff(ingest, cutoff);
            boolean speed = !minutely.slotOf(ingest).isBefore(cutoff);
            assertTrue(batch ^ speed, "ingest " + ingest + " vs cutoff " + cutoff);
        }
    }

    @Test
    void slotWidthMustDivideADay() {
        assertThrows(IllegalArgumentException.class, () -> new IngestSlots(Duration.ofMinutes(7)));
        assertThrows(IllegalArgumentException.class, () -> new IngestSlots(Duration.ofMillis(10)));
        assertFalse(new IngestSlots(Duration.ofMinutes(15)).isBoundary(Instant.parse("2026-11-21T10:07:00Z")));
    }
}
