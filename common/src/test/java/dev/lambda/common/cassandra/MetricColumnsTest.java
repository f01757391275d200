package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.ProtocolVersion;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The speed layer's direct encoding must read back, through the driver's own codecs, as the stored maps. */
class MetricColumnsTest {

    private static final List<String> AMOUNTS = List.of("12.50", "0.01", "-3.75", "99999999999999999.99", "-0.5", "7");

    private final ViewCatalog catalog = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));

    @Test
    void everyViewsColumnsDecodeAsTheStoredMaps() {
        Random random = new Random(21);
        for (ViewDefinition view : catalog.views()) {
            MetricColumns columns = new MetricColumns(view);
            Aggregate aggregate = Aggregate.zero(view);
            for (int events = 0; events < 40; events++) {
                assertSameColumns(view, columns, aggregate);
                aggregate = aggregate.add(view, randomEvent(view, random));
            }
            assertSameColumns(view, columns, aggregate);
        }
    }

    private static void assertSameColumns(ViewDefinition view, MetricColumns columns, Aggregate aggregate) {
        StoredMetrics expected = StoredMetrics.encode(view, aggregate);
        MetricColumns.Encoded encoded = columns.encode(aggregate);
        ProtocolVersion protocol = ProtocolVersion.DEFAULT; // collections are encoded alike from protocol 3 on
        assertEquals(expected.counts(), CqlCodecs.COUNTS.decode(encoded.counts().duplicate(), protocol), view.name() + " counts");
        assertEquals(expected.decimals(), CqlCodecs.DECIMALS.decode(encoded.decimals().duplicate(), protocol), view.name() + " decimals");
        assertEquals(expected.sketches(), CqlCodecs.SKETCHES.decode(encoded.sketches().duplicate(), protocol), view.name() + " sketches");
        // the driver's decoder ignores bytes after the last entry, Cassandra rejects them
        assertEquals(CqlCodecs.COUNTS.encode(expected.counts(), protocol).remaining(), encoded.counts().remaining(), view.name() + " counts length");
        assertEquals(CqlCodecs.DECIMALS.encode(expected.decimals(), protocol).remaining(), encoded.decimals().remaining(),
                view.name() + " decimals length");
        assertEquals(CqlCodecs.SKETCHES.encode(expected.sketches(), protocol).remaining(), encoded.sketches().remaining(),
                view.name() + " sketches length");
        assertEquals(expected.estimatedBytes(), encoded.estimatedBytes(), view.name() + " size");
    }

    private static Event randomEvent(ViewDefinition view, Random random) {
        Map<String, String> attrs = new HashMap<>();
        attrs.put("user_id", "u" + random.nextInt(30));
        if (random.nextInt(4) > 0) { // some purchases without an amount leave min and max empty a while
            attrs.put("amount", AMOUNTS.get(random.nextInt(AMOUNTS.size())));
        }
        String type = view.events().get(random.nextInt(view.events().size()));
        return new Event("e" + random.nextLong(), type, Instant.parse("2026-11-21T10:00:00Z"), attrs);
    }
}
