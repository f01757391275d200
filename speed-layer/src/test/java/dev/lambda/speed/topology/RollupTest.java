package dev.lambda.speed.topology;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A rollup updated in place holds what folding the same events into immutable aggregates gives. */
class RollupTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();

    private static List<Event> events(int n, long seed) {
        Random random = new Random(seed);
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, String> attrs = new HashMap<>();
            if (random.nextInt(10) > 0) {
                attrs.put("amount", random.nextInt(5) == 0 ? "not a number" : random.nextInt(100_000) / 100.0 + "");
            }
            if (random.nextInt(10) > 0) {
                attrs.put("user_id", random.nextInt(20) == 0 ? "" : "u" + random.nextInt(3_000));
            }
            events.add(new Event("e" + i, "purchase", Instant.parse("2026-11-21T10:00:00Z").plusSeconds(i), attrs));
        }
        return events;
    }

    /** What a reader sees: counts, exact decimals and distinct estimates. */
    private static List<Object> read(Aggregate a) {
        return a.values().stream().map(MetricValue::read).toList();
    }

    @Test
    void eventByEventEqualsImmutableFolding() {
        Rollup rollup = new Rollup(SALES);
        Aggregate folded = Aggregate.zero(SALES);
        long ingest = 0;
        for (Event e : events(5_000, 1)) {
            rollup.add(e, ++ingest);
            folded = folded.add(SALES, e);
        }
        SlotAggregate snapshot = rollup.snapshot();
        assertEquals(read(folded), read(snapshot.aggregate()));
        assertEquals(5_000, snapshot.latestIngest());
    }

    @Test
    void aValueSharingTheSketchesIsStoredAsASnapshotIsWhichLaterEventsLeaveAsItWas() {
        Rollup rollup = new Rollup(SALES);
        long ingest = 0;
        for (Event e : events(2_000, 4)) {
            rollup.add(e, ++ingest);
        }
        var serializer = StoreSerdes.valueSerde().serializer();
        SlotAggregate snapshot = rollup.snapshot(7);
        assertArrayEquals(serializer.serialize("t", snapshot), serializer.serialize("t", rollup.sharingSketches(7)));
        List<Object> before = read(snapshot.aggregate());
        for (Event e : events(2_000, 5)) {
            rollup.add(e, ++ingest);
        }
        assertEquals(before, read(snapshot.aggregate()), "a snapshot is a copy");
        assertNotEquals(before, read(rollup.sharingSketches(7).aggregate()));
    }

    @Test
    void rebuildingFromBaseAggregatesEqualsFoldingEveryEvent() {
        List<Event> events = events(3_000, 2);
        Aggregate all = Aggregate.zero(SALES);
        Rollup rebuilt = new Rollup(SALES);
        for (int part = 0; part < 30; part++) { // thirty base-level aggregates of a hundred events each
            Aggregate base = Aggregate.zero(SALES);
            for (Event e : events.subList(part * 100, part * 100 + 100)) {
                base = base.add(SALES, e);
                all = all.add(SALES, e);
            }
            rebuilt.add(new SlotAggregate(base, part, part * 100L + 100));
        }
        assertEquals(read(all), read(rebuilt.snapshot().aggregate()));
        // and events keep folding in after a rebuild
        Event more = events(1, 3).get(0);
        rebuilt.add(more, 99);
        assertEquals(read(all.add(SALES, more)), read(rebuilt.snapshot().aggregate()));
    }

    /**
     * A base-level aggregate restored from the store and updated in place holds what folding every
     * event gives, sketch included (the same estimate as the uninterrupted fold, not a union's).
     */
    @Test
    void goingOnFromAStoredAggregateEqualsFoldingEveryEvent() {
        List<Event> events = events(4_000, 5);
        Aggregate stored = Aggregate.zero(SALES);
        for (Event e : events.subList(0, 2_500)) {
            stored = stored.add(SALES, e);
        }
        SlotAggregate start = new SlotAggregate(stored, 41, 2_500);
        Rollup restored = new Rollup(SALES, start);
        Aggregate all = stored;
        for (Event e : events.subList(2_500, 4_000)) {
            restored.add(e, 42);
            all = all.add(SALES, e);
        }
        SlotAggregate snapshot = restored.snapshot(4_000);
        assertEquals(read(all), read(snapshot.aggregate()));
        assertEquals(42, snapshot.latestIngest());
        assertEquals(4_000, snapshot.position());
        assertEquals(read(stored), read(start.aggregate()), "the stored value is left as it was");
    }

    @Test
    void aSnapshotDoesNotChangeWhenTheRollupDoes() {
        Rollup rollup = new Rollup(SALES);
        List<Event> events = events(200, 4);
        events.subList(0, 100).forEach(e -> rollup.add(e, 1));
        SlotAggregate before = rollup.snapshot();
        List<Object> seen = read(before.aggregate());
        events.subList(100, 200).forEach(e -> rollup.add(e, 2));
        assertEquals(seen, read(before.aggregate()));
    }
}
