package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoredMetricsTest {

    private final ViewDefinition sales = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();

    @Test
    void aggregatesRoundTripThroughTheRowColumns() {
        Aggregate a = Aggregate.of(sales, event("1", "12.50", "u1"))
                .plus(Aggregate.of(sales, event("2", "0.75", "u2")))
                .plus(Aggregate.of(sales, event("3", null, "u1")));
        StoredMetrics stored = StoredMetrics.encode(sales, a);
        assertEquals(Map.of("orders", 3L), stored.counts());
        assertEquals(3, stored.decimals().size());
        assertEquals(a.values().stream().map(v -> v.read()).toList(),
                stored.decode(sales).values().stream().map(v -> v.read()).toList());
    }

    @Test
    void emptyValuesAreAbsentAndReadBackEmpty() {
        Aggregate zero = Aggregate.zero(sales);
        StoredMetrics stored = StoredMetrics.encode(sales, zero);
        assertEquals(Map.of(), stored.decimals());
        assertEquals(Map.of(), stored.sketches());
        assertEquals(zero.values().stream().map(v -> v.read()).toList(),
                new StoredMetrics(Map.of(), Map.of(), Map.of()).decode(sales).values().stream().map(v -> v.read()).toList());
    }

    private static Event event(String id, String amount, String user) {
        Map<String, String> attrs = amount == null ? Map.of("user_id", user) : Map.of("amount", amount, "user_id", user);
        return new Event(id, "purchase", Instant.parse("2026-11-21T10:00:00Z"), attrs);
    }
}
