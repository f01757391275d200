package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.ProtocolVersion;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The one encoding of an aggregate's metric columns must read back, through the driver's own codecs, as the aggregate. */
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

    /**
     * The bytes read back through the driver's own codecs hold every count, every decimal and sketch
     * that is not empty, each under its metric's name, and decode to the aggregate written.
     */
    private static void assertSameColumns(ViewDefinition view, MetricColumns columns, Aggregate aggregate) {
        MetricColumns.Encoded encoded = columns.encode(aggregate);
        ProtocolVersion protocol = ProtocolVersion.DEFAULT; // collections are encoded alike from protocol 3 on
        StoredMetrics read = new StoredMetrics(CqlCodecs.COUNTS.decode(encoded.counts().duplicate(), protocol),
                CqlCodecs.DECIMALS.decode(encoded.decimals().duplicate(), protocol),
                CqlCodecs.SKETCHES.decode(encoded.sketches().duplicate(), protocol));
        Map<String, Long> counts = new HashMap<>();
        Map<String, BigDecimal> decimals = new HashMap<>();
        Map<String, ByteBuffer> sketches = new HashMap<>();
        for (int i = 0; i < view.metrics().size(); i++) {
            String name = view.metrics().get(i).name();
            MetricValue value = aggregate.get(i);
            if (value instanceof MetricValue.Count c) {
                counts.put(name, c.count());
            } else if (value instanceof MetricValue.Distinct d && !d.sketch().isEmpty()) {
                sketches.put(name, ByteBuffer.wrap(d.toBytes()));
            } else if (!(value instanceof MetricValue.Distinct) && value.read() != null) {
                decimals.put(name, (BigDecimal) value.read());
            }
        }
        assertEquals(counts, read.counts(), view.name() + " counts");
        assertEquals(decimals, read.decimals(), view.name() + " decimals");
        assertEquals(sketches, read.sketches(), view.name() + " sketches");
        assertEquals(reads(aggregate), reads(read.decode(view)), view.name() + " decoded");
        // the driver's decoder ignores bytes after the last entry, Cassandra rejects them
        assertEquals(CqlCodecs.COUNTS.encode(counts, protocol).remaining(), encoded.counts().remaining(), view.name() + " counts length");
        assertEquals(CqlCodecs.DECIMALS.encode(decimals, protocol).remaining(), encoded.decimals().remaining(),
                view.name() + " decimals length");
        assertEquals(CqlCodecs.SKETCHES.encode(sketches, protocol).remaining(), encoded.sketches().remaining(),
                view.name() + " sketches length");
        assertEquals(read.estimatedBytes(), encoded.estimatedBytes(), view.name() + " size");
    }

    private static List<Object> reads(Aggregate aggregate) {
        return aggregate.values().stream().map(v -> (Object) v.read()).toList();
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
