package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The row codec of an {@link Aggregate}: the three metric columns of {@code batch_rows} and
 * {@code speed_rows}, keyed by metric name. An empty decimal or sketch is simply absent, and a
 * metric missing from a row reads as empty. The speed layer writes the same columns through
 * {@link MetricColumns}, without building the maps.
 */
public record StoredMetrics(Map<String, Long> counts, Map<String, BigDecimal> decimals, Map<String, ByteBuffer> sketches) {

    public StoredMetrics {
        counts = Map.copyOf(counts);
        decimals = Map.copyOf(decimals);
        sketches = Map.copyOf(sketches);
    }

    public static StoredMetrics encode(ViewDefinition view, Aggregate aggregate) {
        Map<String, Long> counts = new HashMap<>();
        Map<String, BigDecimal> decimals = new HashMap<>();
        Map<String, ByteBuffer> sketches = new HashMap<>();
        List<MetricSpec> metrics = view.metrics();
        for (int i = 0; i < metrics.size(); i++) {
            String name = metrics.get(i).name();
            MetricValue value = aggregate.get(i);
            if (value instanceof MetricValue.Count c) {
                counts.put(name, c.count());
            } else if (value instanceof MetricValue.Distinct d) {
                if (!d.sketch().isEmpty()) {
                    sketches.put(name, ByteBuffer.wrap(d.toBytes()));
                }
            } else if (value.read() != null) {
                decimals.put(name, (BigDecimal) value.read());
            }
        }
        return new StoredMetrics(counts, decimals, sketches);
    }

    /** The metric columns of a row read from {@code batch_rows} or {@code speed_rows}. */
    static StoredMetrics read(Row row) {
        return new StoredMetrics(row.get("counts", CqlCodecs.COUNTS), row.get("decimals", CqlCodecs.DECIMALS),
                row.get("sketches", CqlCodecs.SKETCHES));
    }

    /** Binds the metric columns, whose bind markers are {@code counts, decimals, sketches} from {@code first} on. */
    BoundStatementBuilder bind(BoundStatementBuilder statement, int first) {
        return statement.set(first, counts, CqlCodecs.COUNTS).set(first + 1, decimals, CqlCodecs.DECIMALS)
                .set(first + 2, sketches, CqlCodecs.SKETCHES);
    }

    /** A rough size of the values in bytes, for keeping batches under the server's limits. */
    public int estimatedBytes() {
        int sketchBytes = 0;
        for (ByteBuffer b : sketches.values()) {
            sketchBytes += b.remaining();
        }
        return estimatedBytes(counts.size(), decimals.size(), sketches.size(), sketchBytes);
    }

    static int estimatedBytes(int counts, int decimals, int sketches, int sketchBytes) {
        return 64 + counts * 24 + decimals * 32 + sketches * 16 + sketchBytes;
    }

    public Aggregate decode(ViewDefinition view) {
        List<MetricValue> values = new ArrayList<>(view.metrics().size());
        for (MetricSpec m : view.metrics()) {
            String name = m.name();
            values.add(switch (m.type()) {
                case COUNT -> new MetricValue.Count(counts.getOrDefault(name, 0L));
                case SUM -> new MetricValue.Sum(decimals.get(name));
                case MIN -> new MetricValue.Min(decimals.get(name));
                case MAX -> new MetricValue.Max(decimals.get(name));
                case DISTINCT -> {
                    ByteBuffer bytes = sketches.get(name);
                    if (bytes == null) {
                        yield MetricValue.Distinct.EMPTY;
                    }
                    byte[] array = new byte[bytes.remaining()];
                    bytes.duplicate().get(array);
                    yield MetricValue.Distinct.fromBytes(array);
                }
            });
        }
        return new Aggregate(values);
    }
}
