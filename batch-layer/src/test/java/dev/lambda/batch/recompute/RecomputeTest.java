package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.cassandra.ViewState;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Generation ids, and since when a view version counts as published (which times the dropping of its view's other versions). */
class RecomputeTest {

    private static final Instant NOW = Instant.parse("2026-11-21T12:00:00Z");

    private static ViewState state(String version, String publishedAt, String since) {
        Instant at = Instant.parse(publishedAt);
        return new ViewState("sales", version, 1, at, at, at, 0, 0, 0, 0, null, since == null ? null : Instant.parse(since));
    }

    @Test
    void aVersionPublishedAgainKeepsItsFirstPublishTime() {
        ViewState current = state("b", "2026-11-21T11:00:00Z", "2026-11-20T09:00:00Z");
        ViewState older = state("a", "2026-11-20T08:00:00Z", "2026-11-01T00:00:00Z");
        assertEquals(Instant.parse("2026-11-20T09:00:00Z"), Recompute.versionSince(Optional.of(current), List.of(current, older), NOW));
    }

    @Test
    void aNewVersionStartsNow() {
        assertEquals(NOW, Recompute.versionSince(Optional.empty(), List.of(state("a", "2026-11-20T08:00:00Z", null)), NOW));
    }

    @Test
    void aVersionBroughtBackAfterAnotherWasPublishedStartsAgain() {
        ViewState a = state("a", "2026-11-20T08:00:00Z", "2026-11-01T00:00:00Z");
        ViewState b = state("b", "2026-11-21T11:00:00Z", "2026-11-21T11:00:00Z");
        assertEquals(NOW, Recompute.versionSince(Optional.of(a), List.of(a, b), NOW), "a change rolled back: b's servers get the grace too");
    }

    @Test
    void aRetiredVersionPublishedAgainStartsAgainEvenIfPublishedLast() {
        ViewState b = state("b", "2026-11-21T09:00:00Z", "2026-11-21T09:00:00Z");
        ViewState a = state("a", "2026-11-21T11:00:00Z", "2026-11-01T00:00:00Z").retiredBy("b", Instant.parse("2026-11-21T11:30:00Z"));
        assertEquals(NOW, Recompute.versionSince(Optional.of(a), List.of(a, b), NOW), "a roll-back over its retirement");
    }

    @Test
    void aViewPublishedOverItsRetiredStateGetsAnIdOfItsOwn() {
        ViewState live = state("a", "2026-11-21T11:00:00Z", "2026-11-01T00:00:00Z");
        ViewState retired = live.retiredBy("b", Instant.parse("2026-11-21T11:30:00Z"));
        long run = Recompute.generationId(Instant.parse("2026-11-21T10:00:00Z"), 42L);
        assertEquals(run, Recompute.generationFor(Optional.empty(), run));
        assertEquals(run, Recompute.generationFor(Optional.of(live), run));
        long own = Recompute.generationFor(Optional.of(retired), run);
        assertNotEquals(run, own, "its old rows may sit partly in readers' caches under the run's id");
        assertEquals(own, Recompute.generationFor(Optional.of(live.retiredBy("b", Instant.parse("2026-11-21T11:30:00Z"))), run),
                "the same for a re-run over the same retirement");
        assertNotEquals(own, Recompute.generationFor(Optional.of(live.retiredBy("b", Instant.parse("2026-11-21T12:30:00Z"))), run));
    }

    @Test
    void aStateOfAnEarlierReleaseCountsFromItsLastPublish() {
        ViewState current = state("b", "2026-11-21T11:00:00Z", null);
        assertEquals(Instant.parse("2026-11-21T11:00:00Z"), Recompute.versionSince(Optional.of(current), List.of(current), NOW));
    }

    @Test
    void theSameCutoffOverTheSameEventsIsTheSameGenerationAndAnythingElseAnother() {
        Instant t = Instant.parse("2026-11-21T10:00:00Z");
        assertEquals(Recompute.generationId(t, 42L), Recompute.generationId(Instant.parse("2026-11-21T10:00:00Z"), 42L));
        assertNotEquals(Recompute.generationId(t, 42L), Recompute.generationId(t, 43L), "events changed under the same cutoff");
        assertNotEquals(Recompute.generationId(t, 42L), Recompute.generationId(t.plusSeconds(3600), 42L), "another cutoff");
    }

    @Test
    void generationIdsAreDistinctAndExactInJson() {
        Random random = new Random(5);
        Set<Long> ids = new HashSet<>();
        Instant t = Instant.parse("2026-11-21T00:00:00Z");
        for (int i = 0; i < 100_000; i++) {
            long id = Recompute.generationId(t.plusSeconds(3600L * random.nextInt(10_000)), random.nextLong());
            assertTrue(id >= 0 && id < (1L << 53), id + " is not a number JSON readers hold exactly");
            ids.add(id);
        }
        assertEquals(100_000, ids.size());
    }
}
