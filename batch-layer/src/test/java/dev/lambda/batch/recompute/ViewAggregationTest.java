package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.batch.store.GenerationWriter;
import dev.lambda.batch.testing.BatchOracle;
import dev.lambda.batch.testing.MasterRows;
import dev.lambda.batch.testing.TestSpark;
import dev.lambda.common.cassandra.BatchGeneration;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The Spark transforms against an independent in-memory computation over the same random events. */
class ViewAggregationTest {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final Instant START = Instant.parse("2026-11-21T22:30:00Z");

    @Test
    void aGenerationsPartitionsAreKnownBeforeItsRowsAreWritten() {
        List<MasterRows.Event> events = MasterRows.random(12, 3_000, START); // some days late: several hours, days and months
        Dataset<Row> counted = Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), Instant.parse("2030-01-01T00:00:00Z"));
        for (ViewDefinition view : VIEWS.views()) {
            Set<String> filled = new TreeSet<>();
            for (Row r : ViewAggregation.aggregate(counted, view).collectAsList()) {
                Granularity level = Granularity.fromId(r.getString(0));
                filled.add(BatchGeneration.partition(level, level.periodOf(r.getTimestamp(1).toInstant())));
            }
            assertTrue(filled.size() > view.levels().size(), view.name() + " spans several periods: " + filled);
            assertEquals(filled, GenerationWriter.partitionsOf(counted, view), view.name());
        }
    }

    @Test
    void everyViewAtEveryLevelMatchesTheOracle() {
        List<MasterRows.Event> events = MasterRows.random(11, 3_000, START);
        Instant cutoff = Instant.parse("2026-11-21T22:55:00Z"); // inside the stream: later events must be left out
        Dataset<Row> counted = Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), cutoff);
        Map<BatchOracle.Key, BatchOracle.Expected> expected = BatchOracle.expected(events, cutoff);

        Map<BatchOracle.Key, Row> actual = new HashMap<>();
        for (ViewDefinition view : VIEWS.views()) {
            for (Row r : ViewAggregation.aggregate(counted, view).collectAsList()) {
                var key = new BatchOracle.Key(view.name(), r.getString(0), r.getTimestamp(1).toInstant(), r.getList(2));
                assertEquals(null, actual.put(key, r), "one row per key: " + key);
            }
        }
        var missing = expected.keySet().stream().filter(k -> !actual.containsKey(k)).limit(5).toList();
        var extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).limit(5).toList();
        assertTrue(missing.isEmpty() && extra.isEmpty(), "missing " + missing + ", unexpected " + extra);
        List<String> diffs = new ArrayList<>();
        expected.forEach((key, x) -> {
            Row r = actual.get(key);
            check(diffs, key + " count", x.count, r.getLong(3));
            if (key.view().equals("sales")) {
                check(diffs, key + " revenue", x.sum(), scaled(r.getDecimal(4)));
                check(diffs, key + " min", x.min(), scaled(r.getDecimal(5)));
                check(diffs, key + " max", x.max(), scaled(r.getDecimal(6)));
            }
            long estimate = MetricValue.Distinct.fromBytes((byte[]) r.get(r.length() - 1)).read();
            if (Math.abs(estimate - x.distinct.size()) > Math.max(1, x.distinct.size() * 0.05)) {
                diffs.add(key + " distinct ~" + x.distinct.size() + " got " + estimate);
            }
        });
        assertTrue(diffs.isEmpty(), diffs.size() + " differences, e.g. " + diffs.subList(0, Math.min(5, diffs.size())));
    }

    @Test
    void theCutoffSplitsAtTheSlotEdgeAndTheEarliestIngestWinsOverPartitions() {
        Instant t = Instant.parse("2026-11-21T23:00:00Z");
        Instant ts = Instant.parse("2026-11-21T20:00:00Z");
        List<MasterRows.Event> events = List.of(
                new MasterRows.Event("a", "purchase", ts, Map.of("amount", "1.00", "product", "p"), t.minusMillis(1), 0, 5, true),
                new MasterRows.Event("b", "purchase", ts, Map.of("amount", "2.00", "product", "p"), t, 0, 6, true),
                // the same id twice: partition 2 ingested first, so its amount counts, not partition 1's
                new MasterRows.Event("c", "purchase", ts, Map.of("amount", "5.00", "product", "p"), t.minusSeconds(10), 2, 1, true),
                new MasterRows.Event("c", "purchase", ts, Map.of("amount", "7.00", "product", "p"), t.minusSeconds(5), 1, 0, true),
                new MasterRows.Event("d", "purchase", ts, Map.of("amount", "3.00", "product", "p"), t.minusSeconds(1), 0, 7, false));
        ViewDefinition sales = VIEWS.find("sales").orElseThrow();
        Dataset<Row> counted = Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), t);
        Dedup.Counts counts = Dedup.counts(counted);
        assertEquals(List.of(3L, 2L), List.of(counts.valid(), counts.kept()), "a and c twice are valid before T; a and one c count");
        List<Row> rows = ViewAggregation.aggregate(counted, sales).filter("level = 'day'").collectAsList();
        assertEquals(1, rows.size());
        assertEquals(2L, rows.get(0).getLong(3), "a and the first c; b is at T, d is invalid");
        assertEquals(new BigDecimal("6.00"), scaled(rows.get(0).getDecimal(4)));
    }

    @Test
    void readsAttributesWhoseNamesHoldDotsAndDashes() {
        ViewDefinition view = new ViewCatalogLoader().parse("""
                views:
                  - name: odd_names
                    events: [click]
                    dimensions: [page.path, ab-test]
                    granularity: hour
                    metrics:
                      - {name: clicks, type: count}
                      - {name: spent, type: sum, field: cost.eur, scale: 2}
                """).views().get(0);
        Instant ts = Instant.parse("2026-11-21T20:10:00Z");
        Instant ingest = Instant.parse("2026-11-21T20:10:01Z");
        List<MasterRows.Event> events = List.of(
                new MasterRows.Event("a", "click", ts, Map.of("page.path", "/x", "ab-test", "B", "cost.eur", "1.50"), ingest, 0, 0, true),
                new MasterRows.Event("b", "click", ts, Map.of("page.path", "/x", "ab-test", "B", "cost.eur", "2.25"), ingest, 0, 1, true),
                new MasterRows.Event("c", "click", ts, Map.of("page.path", "/y"), ingest, 0, 2, true));
        Dataset<Row> counted = Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), Instant.parse("2030-01-01T00:00:00Z"));
        Map<List<Object>, List<Object>> hours = new HashMap<>();
        for (Row r : ViewAggregation.aggregate(counted, view).filter("level = 'hour'").collectAsList()) {
            hours.put(r.getList(2), java.util.Arrays.asList(r.getLong(3), scaled(r.getDecimal(4))));
        }
        assertEquals(Map.of(List.of("/x", "B"), List.of(2L, new BigDecimal("3.75")),
                List.of("/y", ""), java.util.Arrays.asList(1L, null)), hours);
    }

    @Test
    void aFieldCountedDistinctAsTextAndSummedAsADecimalIsReadBothWays() {
        ViewDefinition view = new ViewCatalogLoader().parse("""
                views:
                  - name: prices
                    events: [purchase]
                    dimensions: []
                    granularity: hour
                    metrics:
                      - {name: price_texts, type: distinct, field: amount}
                      - {name: revenue, type: sum, field: amount, scale: 2}
                      - {name: biggest, type: max, field: amount, scale: 2}
                """).views().get(0);
        Instant ts = Instant.parse("2026-11-21T20:10:00Z");
        Instant ingest = Instant.parse("2026-11-21T20:10:01Z");
        List<MasterRows.Event> events = List.of( // "1.50" and "1.5" are two texts and one number
                new MasterRows.Event("a", "purchase", ts, Map.of("amount", "1.50"), ingest, 0, 0, true),
                new MasterRows.Event("b", "purchase", ts, Map.of("amount", "1.5"), ingest, 0, 1, true),
                new MasterRows.Event("c", "purchase", ts, Map.of("amount", "2.25"), ingest, 0, 2, true));
        Dataset<Row> counted = Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), Instant.parse("2030-01-01T00:00:00Z"));
        List<Row> days = ViewAggregation.aggregate(counted, view).filter("level = 'day'").collectAsList();
        assertEquals(1, days.size());
        assertEquals(3L, MetricValue.Distinct.fromBytes((byte[]) days.get(0).get(3)).read(), "distinct texts");
        assertEquals(new BigDecimal("5.25"), scaled(days.get(0).getDecimal(4)), "sum of the numbers");
        assertEquals(new BigDecimal("2.25"), scaled(days.get(0).getDecimal(5)), "biggest number");
    }

    @Test
    void anAttributeNamedNullIsCountedDistinctNextToACount() {
        // a count reads no field: its input must not be shared with a metric of the attribute "null"
        ViewDefinition view = new ViewCatalogLoader().parse("""
                views:
                  - name: odd_names
                    events: [visit]
                    dimensions: []
                    granularity: hour
                    metrics:
                      - {name: visits, type: count}
                      - {name: nulls, type: distinct, field: "null"}
                """).views().get(0);
        Instant ts = Instant.parse("2026-11-21T20:10:00Z");
        Instant ingest = Instant.parse("2026-11-21T20:10:01Z");
        List<MasterRows.Event> events = List.of(
                new MasterRows.Event("a", "visit", ts, Map.of("null", "x"), ingest, 0, 0, true),
                new MasterRows.Event("b", "visit", ts, Map.of("null", "y"), ingest, 0, 1, true),
                new MasterRows.Event("c", "visit", ts, Map.of(), ingest, 0, 2, true));
        Dataset<Row> counted = Recompute.eventsBefore(MasterRows.toDataset(TestSpark.get(), events), Instant.parse("2030-01-01T00:00:00Z"));
        List<Row> hours = ViewAggregation.aggregate(counted, view).filter("level = 'hour'").collectAsList();
        assertEquals(1, hours.size());
        assertEquals(3L, hours.get(0).getLong(3), "visits");
        assertEquals(2L, MetricValue.Distinct.fromBytes((byte[]) hours.get(0).get(4)).read(), "distinct values of the attribute null");
    }

    private static BigDecimal scaled(BigDecimal d) {
        return d == null ? null : d.setScale(2);
    }

    private static void check(List<String> diffs, String what, Object expected, Object actual) {
        if (!java.util.Objects.equals(expected, actual)) {
            diffs.add(what + ": expected " + expected + " got " + actual);
        }
    }
}
