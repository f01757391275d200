package dev.lambda.common.cassandra;

import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A view's metric columns encoded straight into the bytes of their frozen maps, as the driver's map
 * codecs encode {@link StoredMetrics}' maps (native protocol 3 and later): how every
 * {@link Aggregate} is written, the speed layer's rows above all. A flush writes tens of thousands
 * of rows, and building three maps per row, copying them and encoding every metric's name again
 * showed in profiles: encoding and binding the rows took 28 % of the stream threads' samples that
 * way, 21 % this way.
 */
final class MetricColumns {

    /** The three columns' values, ready for {@code setBytesUnsafe}, and their rough size in bytes. */
    record Encoded(ByteBuffer counts, ByteBuffer decimals, ByteBuffer sketches, int estimatedBytes) {
    }

    private final List<MetricSpec> metrics;
    private final byte[][] names;

    MetricColumns(ViewDefinition view) {
        this.metrics = view.metrics();
        this.names = new byte[metrics.size()][];
        for (int i = 0; i < names.length; i++) {
            names[i] = metrics.get(i).name().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A count is always written; an empty decimal or sketch is left out of its map (and reads back empty). */
    Encoded encode(Aggregate aggregate) {
        int n = metrics.size();
        byte[][] values = new byte[n][];
        int[] scales = new int[n];
        int countsSize = 4;
        int decimalsSize = 4;
        int sketchesSize = 4;
        int counts = 0;
        int decimals = 0;
        int sketches = 0;
        int sketchBytes = 0;
        for (int i = 0; i < n; i++) {
            MetricValue value = aggregate.get(i);
            int entry = 4 + names[i].length + 4;
            if (value instanceof MetricValue.Count) {
                countsSize += entry + 8;
                counts++;
            } else if (value instanceof MetricValue.Distinct d) {
                if (!d.sketch().isEmpty()) {
                    values[i] = d.toBytes();
                    sketchesSize += entry + values[i].length;
                    sketchBytes += values[i].length;
                    sketches++;
                }
            } else if (value.read() instanceof BigDecimal decimal) {
                values[i] = decimal.unscaledValue().toByteArray();
                scales[i] = decimal.scale();
                decimalsSize += entry + 4 + values[i].length;
                decimals++;
            }
        }
        ByteBuffer countsBytes = ByteBuffer.allocate(countsSize).putInt(counts);
        ByteBuffer decimalsBytes = ByteBuffer.allocate(decimalsSize).putInt(decimals);
        ByteBuffer sketchesBytes = ByteBuffer.allocate(sketchesSize).putInt(sketches);
        for (int i = 0; i < n; i++) {
            MetricValue value = aggregate.get(i);
            if (value instanceof MetricValue.Count c) {
                key(countsBytes, i).putInt(8).putLong(c.count());
            } else if (values[i] != null && value instanceof MetricValue.Distinct) {
                key(sketchesBytes, i).putInt(values[i].length).put(values[i]);
            } else if (values[i] != null) {
                key(decimalsBytes, i).putInt(4 + values[i].length).putInt(scales[i]).put(values[i]);
            }
        }
        return new Encoded(countsBytes.flip(), decimalsBytes.flip(), sketchesBytes.flip(),
                StoredMetrics.estimatedBytes(counts, decimals, sketches, sketchBytes));
    }

    private ByteBuffer key(ByteBuffer map, int metric) {
        return map.putInt(names[metric].length).put(names[metric]);
    }
}
