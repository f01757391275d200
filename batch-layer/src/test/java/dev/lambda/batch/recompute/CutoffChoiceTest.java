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
import java.util.Set;
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
    void anImportUnderWayHoldsTheCutoffAtOrBeforeItsStart() {
        Instant nine = Instant.parse("2026-11-21T09:00:00Z");
        Instant ten = Instant.parse("2026-11-21T10:00:00Z");
        String earliest = "master/_imports_under_way/import_id=20261121T083000000Z";
        Map<String, Instant> imports = Map.of(earliest, Instant.parse("2026-11-21T08:30:00Z"),
                "master/_imports_under_way/import_id=20261121T094000000Z", Instant.parse("2026-11-21T09:40:00Z"));
        assertEquals(ten, CutoffChoice.beforeImportsUnderWay(ten, false, Map.of(), HOURS), "none under way");
        assertEquals(Instant.parse("2026-11-21T08:00:00Z"), CutoffChoice.beforeImportsUnderWay(ten, false, imports, HOURS),
                "the slot boundary at or before the earliest start");
        Map<String, Instant> atNine = Map.of("master/_imports_under_way/import_id=20261121T090000000Z", nine);
        assertEquals(nine, CutoffChoice.beforeImportsUnderWay(nine, true, atNine, HOURS), "its rows, ingested at 09:00, are not before it");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CutoffChoice.beforeImportsUnderWay(ten, true, imports, HOURS));
        assertTrue(e.getMessage().startsWith("cutoff 2026-11-21T10:00:00Z is after 2026-11-21T08:30:00Z: the import written in "
                + earliest + ", started at 2026-11-21T08:30:00Z, is not complete"), e.getMessage());
    }

    @Test
    void theCutoffMustBeASlotBoundaryOfEverySpeedApplication() {
        Instant hour = Instant.parse("2026-11-21T10:00:00Z");
        CutoffChoice.requireSpeedAgreement(hour, true, List.of(speed("minutes", 0, Map.of(Duration.ofMinutes(1), NOW)),
                speed("hours", 0, Map.of(Duration.ofHours(1), NOW)), speed("older-release", 0, Map.of())), NOW);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(
                hour.plusSeconds(37 * 60), true, List.of(speed("minutes", 0, Map.of(Duration.ofMinutes(1), NOW)),
                        speed("hours", 0, Map.of(Duration.ofHours(1), NOW))), NOW));
        assertTrue(e.getMessage().contains("speed-layer application hours, whose rows have slots PT1H wide (partitions [0])"),
                e.getMessage());
    }

    @Test
    void theWidthAPartitionWasLastWrittenWithCountsThoughItsRowsEndBeforeTheCutoff() {
        // idle since 09:50, but its next event, at 10:26 say, would land in the 10:00 slot
        List<SpeedPartitionStatus> idle = List.of(speed("app", 0, Map.of(Duration.ofHours(1), Instant.parse("2026-11-21T09:50:00Z"))));
        assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(Instant.parse("2026-11-21T10:17:00Z"), true,
                idle, NOW));
    }

    @Test
    void anOldWidthCountsWhileItsRowsReachTheSlotTheCutoffFallsIn() {
        Duration hour = Duration.ofHours(1);
        Duration minute = Duration.ofMinutes(1);
        Instant restart = Instant.parse("2026-11-21T10:20:00Z"); // from 1 h slots to 1 min slots
        List<SpeedPartitionStatus> narrowed = List.of(speed("app", 2, Map.of(minute, NOW)),
                speed("app", 0, Map.of(hour, restart, minute, NOW)), speed("app", 1, Map.of(hour, restart, minute, NOW)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(
                Instant.parse("2026-11-21T10:17:00Z"), true, narrowed, NOW), "the 10:00 hour's rows hold events up to 10:20");
        assertTrue(e.getMessage().contains("whose rows have slots PT1H wide (partitions [0, 1])"), e.getMessage());
        CutoffChoice.requireSpeedAgreement(Instant.parse("2026-11-21T11:17:00Z"), true, narrowed, NOW); // after the old rows' last slot
        CutoffChoice.requireSpeedAgreement(Instant.parse("2026-11-21T10:00:00Z"), true, narrowed, NOW);
    }

    @Test
    void withoutAnIngestEventsTheSpeedLayerCountedWouldBeLost() {
        Instant hour = Instant.parse("2026-11-21T10:00:00Z");
        CutoffChoice.requireSpeedAgreement(hour, false, List.of(status("idle", 0, null, Set.of(Duration.ofDays(7)), Map.of())), NOW);
        List<SpeedPartitionStatus> counted = List.of(speed("app", 3, Map.of(Duration.ofHours(1), NOW)),
                speed("app", 1, Map.of(Duration.ofHours(1), NOW)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(hour, false, counted,
                NOW));
        assertTrue(e.getMessage().contains("speed-layer application app has counted events of its partitions [1, 3]")
                && e.getMessage().endsWith("Run ingest first"), e.getMessage());
        CutoffChoice.requireSpeedAgreement(hour, true, counted, NOW);

        // a width recorded just before the first rows, progress not yet
        List<SpeedPartitionStatus> aboutToWrite = List.of(status("app", 2, null, Set.of(Duration.ofDays(7)),
                Map.of(Duration.ofHours(1), NOW)));
        e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(hour, false, aboutToWrite, NOW));
        assertTrue(e.getMessage().contains("speed-layer application app has counted events of its partitions [2]"), e.getMessage());
    }

    @Test
    void theSpeedRowsFromTheCutoffOnMustStillBeAlive() {
        Duration week = Duration.ofDays(7);
        Instant sixDaysAgo = Instant.parse("2026-11-15T12:00:00Z");
        Instant eightDaysAgo = Instant.parse("2026-11-13T12:00:00Z");
        Map<Duration, Instant> hours = Map.of(Duration.ofHours(1), NOW);
        List<SpeedPartitionStatus> running = List.of(status("app", 0, NOW, Set.of(week), hours));
        CutoffChoice.requireSpeedAgreement(sixDaysAgo, true, running, NOW);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(eightDaysAgo, true,
                running, NOW));
        assertTrue(e.getMessage().contains("more than the TTL of speed-layer application app's rows (PT168H) before now")
                && e.getMessage().contains("written before 2026-11-14T12:30:00Z (partitions [0]) have expired"), e.getMessage());
        List<SpeedPartitionStatus> retiredBeforeIt = List.of(status("app", 0, eightDaysAgo.minusSeconds(1), Set.of(week), hours));
        CutoffChoice.requireSpeedAgreement(eightDaysAgo, true, retiredBeforeIt, NOW); // it has no rows from the cutoff on
        List<SpeedPartitionStatus> widthOnly = List.of(status("app", 0, null, Set.of(week), hours)); // rows being written, no progress yet
        assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(eightDaysAgo, true, widthOnly, NOW));
        List<SpeedPartitionStatus> ttlRaised = List.of(status("app", 0, NOW, Set.of(week, Duration.ofDays(1)), hours));
        assertThrows(IllegalStateException.class, () -> CutoffChoice.requireSpeedAgreement(sixDaysAgo, true, ttlRaised, NOW),
                "rows written before the TTL was raised to a week live a day");
    }

    /**
     * A view version is published at a cutoff only if, on every partition, the speed application
     * furthest on it has run the version since before that cutoff: its rows from the cutoff on then
     * hold every record.
     */
    @Test
    void aViewVersionIsPublishedOnlyAtACutoffTheSpeedLayerHasRunItSinceBefore() {
        Instant cutoff = Instant.parse("2026-11-21T10:00:00Z");
        String sales = "sales/v2";
        String old = "sales/v1";
        assertEquals(Optional.empty(), CutoffChoice.speedGap(sales, cutoff, List.of()), "no speed layer: nothing is missing");
        assertEquals(Optional.empty(), CutoffChoice.speedGap(sales, cutoff, List.of(versions("app", 0, 9, NOW, Map.of()))),
                "a release before versions were reported");

        List<SpeedPartitionStatus> running = List.of(versions("app", 0, 9, NOW, Map.of(sales, Instant.EPOCH)),
                versions("app", 1, 9, NOW, Map.of(sales, cutoff.minusMillis(1))));
        assertEquals(Optional.empty(), CutoffChoice.speedGap(sales, cutoff, running));

        List<SpeedPartitionStatus> restarted = List.of(versions("app", 0, 9, NOW, Map.of(sales, cutoff)),
                versions("app", 1, 9, NOW, Map.of(sales, cutoff.minusMillis(1))), versions("app", 2, 9, NOW, Map.of(old, Instant.EPOCH)),
                versions("app", 3, 9, NOW, Map.of(sales, cutoff.plusSeconds(5))));
        assertEquals(Optional.of("speed-layer application app does not run it on partitions [2], started it at or after the cutoff on"
                + " partitions [0, 3] (the latest at 2026-11-21T10:00:05Z)"), CutoffChoice.speedGap(sales, cutoff, restarted),
                "records ingested at the cutoff are the speed rows' too");
        assertEquals(Optional.empty(), CutoffChoice.speedGap(sales, cutoff.plusSeconds(3600), restarted.subList(0, 2)));

        // an application started over under a new id: the old one's status stays behind, the new one catches up
        Instant earlier = NOW.minusSeconds(600);
        List<SpeedPartitionStatus> startedOver = List.of(versions("old", 0, 500, earlier, Map.of(old, Instant.EPOCH)),
                versions("new", 0, 300, NOW, Map.of(sales, Instant.EPOCH)));
        assertEquals(Optional.of("speed-layer application old does not run it on partitions [0]"),
                CutoffChoice.speedGap(sales, cutoff, startedOver), "the old application's rows are the latest until the new one passes it");
        List<SpeedPartitionStatus> tied = List.of(versions("old", 0, 500, earlier, Map.of(old, Instant.EPOCH)),
                versions("new", 0, 500, NOW, Map.of(sales, Instant.EPOCH)));
        assertEquals(Optional.empty(), CutoffChoice.speedGap(sales, cutoff, tied), "on a tie, the progress recorded last");
        assertEquals(Optional.of("speed-layer application new does not run it on partitions [0]"),
                CutoffChoice.speedGap(old, cutoff, tied), "the old application's status does not stand for the new one's rows");
        List<SpeedPartitionStatus> olderReleaseAhead = List.of(versions("new", 0, 300, NOW, Map.of(sales, cutoff)),
                versions("legacy", 0, 500, NOW, Map.of()));
        assertEquals(Optional.empty(), CutoffChoice.speedGap(sales, cutoff, olderReleaseAhead),
                "the rows that go on are of a release that tells nothing of versions");
    }

    private static SpeedPartitionStatus versions(String application, int partition, long nextOffset, Instant updatedAt,
                                                 Map<String, Instant> viewVersions) {
        return new SpeedPartitionStatus(application, partition, nextOffset, NOW, 0, Map.of(), updatedAt, Map.of(), Set.of(), viewVersions);
    }

    private static SpeedPartitionStatus speed(String application, int partition, Map<Duration, Instant> slotWidths) {
        return status(application, partition, NOW, Set.of(Duration.ofDays(7)), slotWidths);
    }

    private static SpeedPartitionStatus status(String application, int partition, Instant newestIngest, Set<Duration> rowsTtls,
                                               Map<Duration, Instant> slotWidths) {
        return new SpeedPartitionStatus(application, partition, 1, newestIngest, 0, Map.of(), NOW, slotWidths,
                slotWidths.isEmpty() ? Set.of() : rowsTtls, Map.of());
    }
}
