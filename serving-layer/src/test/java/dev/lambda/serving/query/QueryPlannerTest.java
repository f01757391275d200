package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class QueryPlannerTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private final QueryPlanner planner = new QueryPlanner(10_000, 200_000);

    private static Instant t(String s) {
        return Instant.parse(s);
    }

    private static Buckets utc(Granularity g) {
        return new Buckets(g, ZoneOffset.UTC);
    }

    @Test
    void readsTheCoarsestLevelThatExactlyCoversTheRangeAndGranularity() {
        Instant dayFrom = t("2026-10-22T00:00:00Z");
        Instant dayTo = t("2026-11-21T00:00:00Z");
        assertEquals(Granularity.DAY, planner.readLevel(SALES, dayFrom, dayTo, utc(Granularity.DAY)),
                "a 30-day daily chart reads 30 day buckets");
        assertEquals(Granularity.DAY, planner.readLevel(SALES, dayFrom, dayTo, null));
        assertEquals(Granularity.HOUR, planner.readLevel(SALES, t("2026-11-21T00:00:00Z"), t("2026-11-21T06:00:00Z"), utc(Granularity.DAY)),
                "a range not on day boundaries reads hours");
        assertEquals(Granularity.HOUR, planner.readLevel(SALES, dayFrom.plusSeconds(86_400 * 29), dayTo, utc(Granularity.HOUR)));
        assertEquals(Granularity.MINUTE, planner.readLevel(SALES, t("2026-11-21T10:15:00Z"), t("2026-11-21T11:00:00Z"), null));
    }

    @Test
    void aTimeZonesBucketsAreReadFromTheCoarsestLevelTheirBoundariesAllFallOn() {
        ViewDefinition activity = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("activity").orElseThrow();
        Instant from = t("2026-11-01T00:00:00Z");
        Instant to = t("2026-11-21T00:00:00Z");
        assertEquals(Granularity.DAY, planner.readLevel(SALES, from, to, utc(Granularity.DAY)), "UTC days: day rows");
        assertEquals(Granularity.HOUR, planner.readLevel(SALES, from, to, new Buckets(Granularity.DAY, ZoneId.of("Europe/Berlin"))),
                "Berlin's days start on whole UTC hours");
        assertEquals(Granularity.MINUTE, planner.readLevel(SALES, from, to, new Buckets(Granularity.DAY, ZoneId.of("Asia/Kathmandu"))),
                "Nepal's at 18:15 UTC");
        assertEquals(Granularity.MINUTE, planner.readLevel(SALES, from, to, new Buckets(Granularity.HOUR, ZoneId.of("Asia/Kolkata"))));
        QueryException e = assertThrows(QueryException.class,
                () -> planner.readLevel(activity, from, to, new Buckets(Granularity.DAY, ZoneId.of("Asia/Kathmandu"))));
        assertEquals("timeZone", e.parameter(), "the activity view keeps hours at the finest");
        assertTrue(e.getMessage().contains("do not start on hour boundaries"), e.getMessage());
        assertEquals(Granularity.HOUR, planner.readLevel(activity, from, to, new Buckets(Granularity.DAY, ZoneId.of("America/New_York"))));
    }

    @Test
    void aRangeOffTheBaseGranularityIsRefusedNamingTheParameter() {
        QueryException e = assertThrows(QueryException.class,
                () -> planner.readLevel(SALES, t("2026-11-21T10:15:30Z"), t("2026-11-21T11:00:00Z"), null));
        assertEquals("from", e.parameter());
        assertTrue(e.getMessage().contains("minute boundary"), e.getMessage());
        assertEquals("to", assertThrows(QueryException.class,
                () -> planner.readLevel(SALES, t("2026-11-21T10:15:00Z"), t("2026-11-21T11:00:01Z"), null)).parameter());
    }

    @Test
    void budgetsSuggestACoarserGranularity() {
        QueryException e = assertThrows(QueryException.class,
                () -> planner.readLevel(SALES, t("2026-11-01T00:00:00Z"), t("2026-11-21T00:00:00Z"), utc(Granularity.MINUTE)));
        assertEquals("granularity", e.parameter());
        assertTrue(e.getMessage().contains("28800 minute buckets") && e.getMessage().contains("hour or day"), e.getMessage());
        QueryException read = assertThrows(QueryException.class, () -> new QueryPlanner(10_000, 1_000)
                .readLevel(SALES, t("2026-11-01T00:01:00Z"), t("2026-11-21T00:00:00Z"), null));
        assertTrue(read.getMessage().endsWith("align from and to to whole hours or days or shorten the range"), read.getMessage());
        QueryException days = assertThrows(QueryException.class, () -> new QueryPlanner(10_000, 1_000)
                .readLevel(SALES, t("2000-01-01T00:00:00Z"), t("2026-01-01T00:00:00Z"), null));
        assertTrue(days.getMessage().endsWith("day buckets, more than the limit of 1000; shorten the range"),
                "from and to are whole days already, and the view keeps nothing coarser: " + days.getMessage());
        QueryException hourly = assertThrows(QueryException.class, () -> new QueryPlanner(100_000, 1_000)
                .readLevel(SALES, t("2026-10-01T00:00:00Z"), t("2026-11-21T00:00:00Z"), utc(Granularity.HOUR)));
        assertTrue(hourly.getMessage().endsWith("hour buckets, more than the limit of 1000; shorten the range"),
                "day buckets cannot answer hours: " + hourly.getMessage());
    }
}
