package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoredMetricsTest {

    private final ViewDefinition sales = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();

    @Test
    void columnsReadBackAsTheMetricsTheyHold() {
        StoredMetrics stored = new StoredMetrics(Map.of("orders", 3L),
                Map.of("revenue", new BigDecimal("13.25"), "smallest", new BigDecimal("0.75"), "biggest", new BigDecimal("12.50")),
                Map.of("buyers", ByteBuffer.wrap(MetricValue.Distinct.of("u1").with("u2").with("u1").toBytes())));
        assertEquals(List.of(3L, new BigDecimal("13.25"), new BigDecimal("0.75"), new BigDecimal("12.50"), 2L),
                stored.decode(sales).values().stream().map(v -> (Object) v.read()).toList());
    }

    @Test
    void missingMetricsReadBackEmpty() {
        Aggregate zero = Aggregate.zero(sales);
        assertEquals(zero.values().stream().map(v -> v.read()).toList(),
                new StoredMetrics(Map.of(), Map.of(), Map.of()).decode(sales).values().stream().map(v -> v.read()).toList());
    }
}
