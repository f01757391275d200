package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
            assertEquals(s.get(0).read(), r.getLong(3), key + " count");
            for (int i = 1; i <= 3; i++) {
                java.math.BigDecimal b = r.isNullAt(3 + i) ? null : r.getDecimal(3 + i).setScale(metrics.get(i).scale());
                assertEquals(s.get(i).read(), b, key + " " + metrics.get(i).name());
            }
            MetricValue.Distinct fromSpark = MetricValue.Distinct.fromBytes((byte[]) r.get(7));
            MetricValue.Distinct fromSpeed = (MetricValue.Distinct) s.get(4);
            assertEquals(fromSpeed.read(), fromSpark.read(), key + " distinct estimate");
            assertEquals(fromSpeed.read(), fromSpeed.plus(fromSpark).read(), key + " the two sketches hold the same values");
        }
    }
}
