package dev.lambda.speed.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The state store's value format: what this release writes, and what the previous one left behind. */
class StoreSerdesTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();

    @Test
    void aValueComesBackWithItsMetricsIngestTimeAndPosition() {
        Aggregate a = Aggregate.zero(SALES).add(SALES, new Event("e1", "purchase", Instant.EPOCH, Map.of("amount", "2.50", "user_id", "u1")));
        SlotAggregate value = new SlotAggregate(a, 1_700_000_000_000L, 42);
        var serde = StoreSerdes.valueSerde();
        SlotAggregate back = serde.deserializer().deserialize("t", serde.serializer().serialize("t", value));
        assertEquals(value.latestIngest(), back.latestIngest());
        assertEquals(42, back.position());
        for (int i = 0; i < SALES.metrics().size(); i++) {
            assertEquals(a.get(i).read(), back.aggregate().get(i).read());
        }
    }

    @Test
    void aValueWithASketchOfThousandsOfUsersComesBackWithTheSameEstimate() {
        Aggregate a = Aggregate.zero(SALES);
        for (int i = 0; i < 5_000; i++) { // past the sketch's exact modes: a value of kilobytes
            a = a.add(SALES, new Event("e" + i, "purchase", Instant.EPOCH, Map.of("amount", "1.00", "user_id", "u" + i)));
        }
        var serde = StoreSerdes.valueSerde();
        SlotAggregate back = serde.deserializer().deserialize("t", serde.serializer().serialize("t", new SlotAggregate(a, 1L, 5_000)));
        for (int i = 0; i < SALES.metrics().size(); i++) {
            assertEquals(a.get(i).read(), back.aggregate().get(i).read(), SALES.metrics().get(i).name());
        }
    }

    @Test
    void aValueOfThePreviousFormatHasNoPosition() throws IOException {
        // format 1: version byte, newest ingest time, metric count, then per metric a tag (1 = count) and its value
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeLong(1_700_000_000_000L);
            out.writeShort(1);
            out.writeByte(1);
            out.writeLong(7);
        }
        SlotAggregate back = StoreSerdes.valueSerde().deserializer().deserialize("t", bytes.toByteArray());
        assertEquals(1_700_000_000_000L, back.latestIngest());
        assertEquals(-1, back.position());
        assertEquals(List.of(new MetricValue.Count(7)), back.aggregate().values());
    }
}
