package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QueryEngineTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private static final Instant T = Instant.parse("2026-11-21T10:00:00Z");
    private static final ViewState STATE = new ViewState("sales", SALES.version(), T.toEpochMilli(), T, T, T, 0, 0, 0, 0, null, null);
    private static int ids;

    private static Aggregate sale(String amount, String user) {
        return Aggregate.of(SALES, new Event("e" + ids++, "purchase", T, Map.of("amount", amount, "user_id", user)));
    }

    private static BatchRow batch(String bucket, String product, String country, Aggregate a) {
        return new BatchRow(STATE.generation(), Granularity.MINUTE, Instant.parse(bucket), List.of(product, country), a);
    }

    private static SpeedRow speed(String bucket, String product, String country, String slot, Aggregate a) {
        return new SpeedRow(Granularity.MINUTE, Instant.parse(bucket), List.of(product, country), Instant.parse(slot), 0, a,
                Instant.parse(slot).plusSeconds(30));
    }

    private static Query query(Granularity g, List<String> groupBy, Map<String, Set<String>> filters, String orderBy, boolean desc, int limit) {
        return new Query(SALES, Instant.parse("2026-11-21T08:00:00Z"), Instant.parse("2026-11-21T12:00:00Z"), g, List.of(0, 1, 4),
                groupBy, filters, orderBy, desc, limit);
    }

    @Test
    void batchPlusSpeedRowsAtOrAfterTheCutoffNothingTwice() {
        List<BatchRow> batch = List.of(batch("2026-11-21T09:59:00Z", "p1", "NP", sale("10.00", "u1")));
        List<SpeedRow> speed = List.of(
                speed("2026-11-21T09:59:00Z", "p1", "NP", "2026-11-21T09:00:00Z", sale("10.00", "u1")), // slot < T: in the batch already
                speed("2026-11-21T09:59:00Z", "p1", "NP", "2026-11-21T10:00:00Z", sale("2.50", "u2")),  // ingested at T: late for its bucket
                speed("2026-11-21T10:05:00Z", "p1", "NP", "2026-11-21T10:00:00Z", sale("1.25", "u1")));
        Answer a = QueryEngine.answer(query(Granularity.HOUR, List.of(), Map.of(), "bucket", false, 100), Granularity.MINUTE, STATE, batch, speed);
        assertEquals(2, a.rows().size());
        assertEquals(List.of(2L, new BigDecimal("12.50"), 2L), a.rows().get(0).metrics(), "09:00 hour: batch + late speed row");
        assertEquals(Instant.parse("2026-11-21T09:00:00Z"), a.rows().get(0).bucket());
        assertEquals(List.of(1L, new BigDecimal("1.25"), 1L), a.rows().get(1).metrics());
        assertEquals(T, a.batchCutoff());
        assertEquals(Instant.parse("2026-11-21T10:00:30Z"), a.speedThrough());
    }

    @Test
    void withoutAPublishedGenerationEverySpeedRowCounts() {
        List<SpeedRow> speed = List.of(speed("2026-11-21T09:59:00Z", "p1", "NP", "2026-11-21T09:00:00Z", sale("10.00", "u1")),
                speed("2026-11-21T10:01:00Z", "p1", "NP", "2026-11-21T10:00:00Z", sale("1.00", "u1")));
        Answer a = QueryEngine.answer(query(null, List.of(), Map.of(), "bucket", false, 100), Granularity.MINUTE, null, List.of(), speed);
        assertEquals(1, a.rows().size());
        assertNull(a.rows().get(0).bucket());
        assertEquals(List.of(2L, new BigDecimal("11.00"), 1L), a.rows().get(0).metrics());
        assertNull(a.batchCutoff());
    }

    @Test
    void batchOnlyRangeOutsideIsIgnored() {
        List<BatchRow> batch = List.of(batch("2026-11-21T08:00:00Z", "p1", "NP", sale("1.00", "u1")),
                batch("2026-11-21T07:59:00Z", "p1", "NP", sale("100.00", "u1")),
                batch("2026-11-21T12:00:00Z", "p1", "NP", sale("100.00", "u1")));
        Answer a = QueryEngine.answer(query(null, List.of(), Map.of(), "bucket", false, 100), Granularity.MINUTE, STATE, batch, List.of());
        assertEquals(List.of(1L, new BigDecimal("1.00"), 1L), a.rows().get(0).metrics(), "from inclusive, to exclusive");
    }

    @Test
    void filtersGroupsAndTopN() {
        List<BatchRow> batch = new ArrayList<>();
        batch.add(batch("2026-11-21T09:00:00Z", "p1", "NP", sale("5.00", "u1")));
        batch.add(batch("2026-11-21T09:01:00Z", "p2", "NP", sale("7.00", "u1")));
        batch.add(batch("2026-11-21T09:02:00Z", "p3", "NP", sale("6.00", "u1")));
        batch.add(batch("2026-11-21T09:03:00Z", "p2", "IN", sale("50.00", "u1")));
        batch.add(batch("2026-11-21T09:04:00Z", "p1", "NP", sale("3.00", "u1")));
        Query q = new Query(SALES, Instant.parse("2026-11-21T08:00:00Z"), Instant.parse("2026-11-21T12:00:00Z"), null, List.of(1),
                List.of("product"), Map.of("country", Set.of("NP")), "revenue", true, 2);
        Answer a = QueryEngine.answer(q, Granularity.MINUTE, STATE, batch, List.of());
        assertEquals(2, a.rows().size());
        assertEquals(List.of("p1"), a.rows().get(0).groups());
        assertEquals(List.of(new BigDecimal("8.00")), a.rows().get(0).metrics());
        assertEquals(List.of("p2"), a.rows().get(1).groups());
        assertEquals(List.of(new BigDecimal("7.00")), a.rows().get(1).metrics());
    }

    @Test
    void productsWithNoValueComeLastWhicheverWayTheMetricIsOrdered() {
        List<BatchRow> batch = List.of(batch("2026-11-21T09:00:00Z", "p1", "NP", sale("5.00", "u1")),
                batch("2026-11-21T09:01:00Z", "p2", "NP", sale("12,50", "u1")), // an amount the view cannot use: no biggest for p2
                batch("2026-11-21T09:02:00Z", "p3", "NP", sale("9.00", "u1")));
        for (boolean descending : new boolean[] {true, false}) {
            Query q = new Query(SALES, Instant.parse("2026-11-21T08:00:00Z"), Instant.parse("2026-11-21T12:00:00Z"), null, List.of(3),
                    List.of("product"), Map.of(), "biggest", descending, 10);
            List<List<String>> order = QueryEngine.answer(q, Granularity.MINUTE, STATE, batch, List.of()).rows().stream()
                    .map(Answer.Row::groups).toList();
            List<String> expected = descending ? List.of("p3", "p1", "p2") : List.of("p1", "p3", "p2");
            assertEquals(expected.stream().map(List::of).toList(), order, descending ? "descending" : "ascending");
        }
    }

    @Test
    void anAnswerTooLargeIsRefusedUnlessALimitAsksForItsFirstRows() {
        List<BatchRow> batch = new ArrayList<>();
        Aggregate one = sale("1.00", "u1");
        for (int minute = 0; minute < 240; minute++) { // 240 minutes x 420 products: 100,800 rows
            for (int product = 0; product < 420; product++) {
                batch.add(new BatchRow(STATE.generation(), Granularity.MINUTE, Instant.parse("2026-11-21T08:00:00Z").plusSeconds(60L * minute),
                        List.of("p" + product, "NP"), one));
            }
        }
        Query all = new Query(SALES, Instant.parse("2026-11-21T08:00:00Z"), Instant.parse("2026-11-21T12:00:00Z"), Granularity.MINUTE,
                List.of(0), List.of("product"), Map.of(), "bucket", false, 0);
        QueryException e = assertThrows(QueryException.class, () -> QueryEngine.answer(all, Granularity.MINUTE, STATE, batch, List.of()));
        assertEquals(400, e.status());
        assertEquals("too_many_rows", e.code());
        assertTrue(e.getMessage().startsWith("the answer has 100800 rows, more than the 100000 one answer holds"), e.getMessage());

        Query first = new Query(all.view(), all.from(), all.to(), all.granularity(), all.metrics(), all.groupBy(), all.filters(), "bucket",
                true, 100_000);
        Answer a = QueryEngine.answer(first, Granularity.MINUTE, STATE, batch, List.of());
        assertEquals(100_000, a.rows().size());
        assertEquals(Instant.parse("2026-11-21T11:59:00Z"), a.rows().get(0).bucket(), "the latest first, as asked");
    }

    @Test
    void rollsRowsUpToTheDaysOfATimeZone() {
        // 23:55 and 00:05 in Nepal (UTC+05:45): two days there, one in UTC
        List<BatchRow> batch = List.of(batch("2026-11-21T18:10:00Z", "p1", "NP", sale("1.00", "u1")),
                batch("2026-11-21T18:20:00Z", "p1", "NP", sale("2.00", "u2")));
        Query nepal = new Query(SALES, Instant.parse("2026-11-21T00:00:00Z"), Instant.parse("2026-11-22T00:00:00Z"), Granularity.DAY,
                List.of(1), List.of(), Map.of(), "bucket", false, 0, ZoneId.of("Asia/Kathmandu"));
        List<Answer.Row> rows = QueryEngine.answer(nepal, Granularity.MINUTE, STATE, batch, List.of()).rows();
        assertEquals(List.of(Instant.parse("2026-11-20T18:15:00Z"), Instant.parse("2026-11-21T18:15:00Z")),
                rows.stream().map(Answer.Row::bucket).toList());
        assertEquals(List.of(List.of(new BigDecimal("1.00")), List.of(new BigDecimal("2.00"))),
                rows.stream().map(Answer.Row::metrics).toList());
        Query utc = new Query(SALES, nepal.from(), nepal.to(), Granularity.DAY, List.of(1), List.of(), Map.of(), "bucket", false, 0);
        assertEquals(List.of(List.of(new BigDecimal("3.00"))),
                QueryEngine.answer(utc, Granularity.MINUTE, STATE, batch, List.of()).rows().stream().map(Answer.Row::metrics).toList());
    }

    @Test
    void rollsMinuteRowsUpToDaysAndOrdersByBucket() {
        List<BatchRow> batch = List.of(batch("2026-11-21T09:00:00Z", "p1", "NP", sale("1.00", "u1")),
                batch("2026-11-21T11:30:00Z", "p1", "IN", sale("2.00", "u2")));
        Query q = new Query(SALES, Instant.parse("2026-11-21T08:00:00Z"), Instant.parse("2026-11-21T12:00:00Z"), Granularity.DAY,
                List.of(0, 4), List.of(), Map.of(), "bucket", true, 10);
        Answer a = QueryEngine.answer(q, Granularity.MINUTE, STATE, batch, List.of());
        assertEquals(1, a.rows().size());
        assertEquals(Instant.parse("2026-11-21T00:00:00Z"), a.rows().get(0).bucket());
        assertEquals(List.of(2L, 2L), a.rows().get(0).metrics());
    }
}
