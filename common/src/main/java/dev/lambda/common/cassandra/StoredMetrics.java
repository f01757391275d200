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
import java.util.List;
import java.util.Map;

/**
 * The three metric columns of {@code batch_rows} and {@code speed_rows_by_slot} as maps keyed by metric
 * name: what a row read back holds, and what the batch layer writes from Spark's rows. An empty
 * decimal or sketch is simply absent, and a metric missing from a row reads as empty. An
 * {@link Aggregate} is written through {@link MetricColumns}, without building the maps.
 */
public record StoredMetrics(Map<String, Long> counts, Map<String, BigDecimal> decimals, Map<String, ByteBuffer> sketches) {

    public StoredMetrics {
        counts = Map.copyOf(counts);
        decimals = Map.copyOf(decimals);
        sketches = Map.copyOf(sketches);
    }

    /** The metric columns of a row read from {@code batch_rows} or {@code speed_rows_by_slot}. */
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
