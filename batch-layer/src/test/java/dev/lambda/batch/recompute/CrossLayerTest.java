package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.batch.store.GenerationWriter;
import dev.lambda.batch.testing.MasterRows;
import dev.lambda.batch.testing.TestSpark;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.datasketches.hll.HllSketch;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The same events through the speed layer's aggregation code ({@code common}'s Aggregate, folded
 * event by event) and through the batch layer's Spark transform give identical aggregates: equal
 * counts and decimals, and sketches that union with each other and give the same estimate.
 */
class CrossLayerTest {

    @Test
    void speedAndBatchAggregatesAreTheSame() {
        // a view with every metric type, including awkward inputs: rounding, non-numbers, empty strings
        ViewDefinition view = new ViewCatalogLoader().parse("""
                views:
                  - name: all_types
                    events: [purchase, page_view]
                    dimensions: [country]
                    granularity: minute
                    metrics:
                      - {name: n, type: count}
                      - {name: total, type: sum, field: amount, scale: 1}
                      - {name: low, type: min, field: amount, scale: 3}
                      - {name: high, type: max, field: amount, scale: 0}
                      - {name: users, type: distinct, field: user_id}
                """).views().get(0);
        List<MasterRows.Event> events = new ArrayList<>(MasterRows.random(5, 4_000, Instant.parse("2026-11-21T10:00:00Z")));
        Instant t = Instant.parse("2026-11-21T10:10:00Z");
        events.add(new MasterRows.Event("odd1", "purchase", t, Map.of("amount", "2.25", "user_id", ""), t, 0, 90_000, true));
        events.add(new MasterRows.Event("odd2", "purchase", t, Map.of("amount", "-0.05", "user_id", "x"), t, 0, 90_001, true));
        events.add(new MasterRows.Event("odd3", "purchase", t, Map.of("amount", "12e1", "user_id", "y"), t, 0, 90_002, true));
        events.add(new MasterRows.Event("odd4", "purchase", t, Map.of("amount", "n/a", "user_id", "z"), t, 0, 90_003, true));
        // exponents that must not be rescaled, and numbers whose sum would not fit a Spark decimal
        events.add(new MasterRows.Event("odd5", "purchase", t, Map.of("amount", "1e999999999", "user_id", "z"), t, 0, 90_004, true));
        events.add(new MasterRows.Event("odd6", "purchase", t, Map.of("amount", "-1e-999999999", "user_id", "z"), t, 0, 90_005, true));
        for (int i = 0; i < 2; i++) {
            events.add(new MasterRows.Event("big" + i, "purchase", t, Map.of("amount", "9".repeat(27)), t, 0, 90_010 + i, true));
            events.add(new MasterRows.Event("huge" + i, "purchase", t, Map.of("amount", "9".repeat(37)), t, 0, 90_020 + i, true));
        }
        assertSameAggregates(view, events);
    }

    @Test
    void sketchesPastTheirExactModesAreTheSame() {
        // 3,000 users in one hour: the hour and day sketches leave their exact modes (above 384 values
        // at lgK 12) and estimate from registers, as a real view's do
        ViewDefinition view = new ViewCatalogLoader().parse("""
                views:
                  - name: visitors
                    events: [page_view]
                    dimensions: [country]
                    granularity: minute
                    metrics:
                      - {name: visitors, type: distinct, field: user_id}
                """).views().get(0);
        Instant start = Instant.parse("2026-11-21T10:00:00Z");
        List<MasterRows.Event> events = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            Instant ts = start.plusMillis(i * 1_000L);
            events.add(new MasterRows.Event("v" + i, "page_view", ts, Map.of("user_id", "user-" + i, "country", "C" + i % 2), ts, 0, i, true));
        }
        List<Row> batch = assertSameAggregates(view, events);
        long hourEstimate = batch.stream().filter(r -> r.getString(0).equals("hour") && r.getList(2).equals(List.of("C0")))
                .mapToLong(r -> MetricValue.Distinct.fromBytes((byte[]) r.get(3)).read()).sum();
        assertTrue(Math.abs(hourEstimate - 1_500) < 1_500 * 0.05 && hourEstimate != 1_500,
                "an estimate near 1,500, not an exact count: " + hourEstimate);
        for (Row r : batch) {
            HllSketch stored = HllSketch.heapify(GenerationWriter.toStored(r, view).metrics().sketches().get("visitors").array());
            assertEquals(MetricValue.Distinct.TYPE, stored.getTgtHllType(), "stored as the speed layer stores its sketches");
            assertEquals(MetricValue.Distinct.fromBytes((byte[]) r.get(3)).read(), new MetricValue.Distinct(stored).read(),
                    "same estimate");
        }
    }

    /** The speed layer's aggregates of the events against the batch transform's, row by row; returns the batch rows. */
    private static List<Row> assertSameAggregates(ViewDefinition view, List<MasterRows.Event> events) {
        Instant cutoff = Instant.parse("2026-11-22T00:00:00Z");

        Map<List<Object>, Aggregate> speed = new HashMap<>();
        Map<String, MasterRows.Event> firstById = new HashMap<>();
        for (MasterRows.Event e : events) {
            if (e.valid() && e.ingest().isBefore(cutoff)) {
                firstById.merge(e.id(), e, (a, b) -> a.ingest().compareTo(b.ingest()) <= 0 ? a : b);
            }
        }
        for (MasterRows.Event e : firstById.values()) {
            if (!view.accepts(e.type())) {
                continue;
            }
            Event event = new Event(e.id(), e.type(), e.ts(), e.attrs());
            for (Granularity level : view.levels()) {
                List<Object> key = List.of(level.id(), level.bucketOf(e.ts()), List.of(e.attrs().getOrDefault("country", "")));
                speed.merge(key, Aggregate.zero(view).add(view, event), Aggregate::plus);
            }
        }

        List<Row> batch = ViewAggregation.aggregate(Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), cutoff), view)
                .collectAsList();
        assertEquals(speed.size(), batch.size());
        List<MetricSpec> metrics = view.metrics();
        for (Row r : batch) {
            List<Object> key = List.of(r.getString(0), r.getTimestamp(1).toInstant(), r.getList(2));
            Aggregate s = speed.get(key);
            assertTrue(s != null, "no speed aggregate for " + key);
            for (int i = 0; i < metrics.size(); i++) {
                String what = key + " " + metrics.get(i).name();
                int column = 3 + i;
                switch (metrics.get(i).type()) {
                    case COUNT -> assertEquals(s.get(i).read(), r.getLong(column), what);
                    case SUM, MIN, MAX -> assertEquals(s.get(i).read(),
                            r.isNullAt(column) ? null : r.getDecimal(column).setScale(metrics.get(i).scale()), what);
                    case DISTINCT -> {
                        MetricValue.Distinct fromSpark = MetricValue.Distinct.fromBytes((byte[]) r.get(column));
                        MetricValue.Distinct fromSpeed = (MetricValue.Distinct) s.get(i);
                        assertEquals(fromSpeed.read(), fromSpark.read(), what + " estimate");
                        assertEquals(fromSpeed.read(), fromSpeed.plus(fromSpark).read(), what + ": the two sketches hold the same values");
                    }
                }
            }
        }
        return batch;
    }
}
