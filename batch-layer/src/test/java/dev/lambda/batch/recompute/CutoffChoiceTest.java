package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.time.IngestSlots;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cutoff of a recompute (DESIGN §4), derived or given, never past what the master dataset is known to hold. */
class CutoffChoiceTest {

    private static final IngestSlots HOURS = new IngestSlots(Duration.ofHours(1));
    private static final Duration MARGIN = Duration.ofMinutes(5);
    private static final Instant INGEST = Instant.parse("2026-11-21T10:03:00Z");
    private static final Instant NOW = Instant.parse("2026-11-21T12:30:00Z");

    private static Instant choose(String explicit, Instant lastIngest) {
        return CutoffChoice.choose(Optional.ofNullable(explicit).map(Instant::parse), Optional.ofNullable(lastIngest), HOURS, MARGIN, NOW);
    }

    @Test
    void derivedFromTheLastIngestStartLessTheMarginOnASlotBoundary() {
        assertEquals(Instant.parse("2026-11-21T09:00:00Z"), choose(null, INGEST), "10:03 - 5 min is in the 09:00 slot");
        assertEquals(Instant.parse("2026-11-21T10:00:00Z"), choose(null, Instant.parse("2026-11-21T10:05:00Z")));
    }

    @Test
    void anExplicitCutoffMayGoBackButNotPastTheDerivedOne() {
        assertEquals(Instant.parse("2026-11-20T00:00:00Z"), choose("2026-11-20T00:00:00Z", INGEST));
        assertEquals(Instant.parse("2026-11-21T09:00:00Z"), choose("2026-11-21T09:00:00Z", INGEST));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> choose("2026-11-21T10:00:00Z", INGEST),
                "10:00 is before the ingest started, but within its margin");
        assertTrue(e.getMessage().contains("run ingest first"), e.getMessage());
    }

    @Test
    void withoutAnIngestAnExplicitCutoffMustNotLieInTheFuture() {
        assertEquals(Instant.parse("2026-11-21T12:00:00Z"), choose("2026-11-21T12:00:00Z", null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> choose("2026-11-21T13:00:00Z", null));
        assertTrue(e.getMessage().contains("2026-11-21T12:00:00Z"), e.getMessage());
    }

    @Test
    void withoutAnIngestOrACutoffThereIsNothingToChooseFrom() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> choose(null, null));
        assertTrue(e.getMessage().contains("run ingest"), e.getMessage());
    }

    @Test
    void theCutoffMustBeASlotBoundaryOfEverySpeedApplication() {
        Instant hour = Instant.parse("2026-11-21T10:00:00Z");
        CutoffChoice.requireSpeedSlotBoundary(hour, List.of(speed("minutes", Duration.ofMinutes(1)), speed("hours", Duration.ofHours(1)),
                speed("older-release", null)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedSlotBoundary(
                hour.plusSeconds(37 * 60), List.of(speed("minutes", Duration.ofMinutes(1)), speed("hours", Duration.ofHours(1)))));
        assertTrue(e.getMessage().contains("speed-layer application hours, whose slots are PT1H wide (as recorded for its partitions [0])"),
                e.getMessage());
    }

    @Test
    void aPartitionStillOnAnOldWidthCountsToo() {
        Instant minute = Instant.parse("2026-11-21T10:37:00Z");
        List<SpeedPartitionStatus> speed = List.of(speed("app", 0, Duration.ofMinutes(1)), speed("app", 1, Duration.ofHours(1)),
                speed("app", 2, Duration.ofMinutes(1)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedSlotBoundary(minute, speed));
        assertTrue(e.getMessage().contains("whose slots are PT1H wide (as recorded for its partitions [1])"), e.getMessage());
    }

    private static SpeedPartitionStatus speed(String application, Duration slotWidth) {
        return speed(application, 0, slotWidth);
    }

    private static SpeedPartitionStatus speed(String application, int partition, Duration slotWidth) {
        return new SpeedPartitionStatus(application, partition, 1, NOW, 0, Map.of(), NOW, slotWidth);
    }
}
