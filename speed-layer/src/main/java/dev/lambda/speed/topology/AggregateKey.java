package dev.lambda.speed.topology;

import dev.lambda.common.time.Granularity;
import java.util.List;
import java.util.Objects;

/**
 * The key of one speed aggregate in a task's state store: (view version, level, bucket, dims,
 * ingest slot). The source partition is implicit: each task (one input partition) has its own store.
 */
public record AggregateKey(String view, String version, Granularity level, long bucket, List<String> dims, long slot) {

    public AggregateKey {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(level, "level");
        dims = List.copyOf(dims);
    }

    /**
     * Mixes every component through a 64-bit multiply and shift. The record's default (31 × hash +
     * next, as {@link List#hashCode} does too) collides systematically on this key's typical values:
     * a minute bucket's step, a page number one higher and a country code 31 lower all cancel out,
     * so keys of one slot piled up in a few hash bins and every look-up walked them.
     */
    @Override
    public int hashCode() {
        long h = mix(view.hashCode());
        h = mix(h + version.hashCode());
        h = mix(h + level.ordinal());
        h = mix(h + bucket);
        for (String d : dims) {
            h = mix(h + d.hashCode());
        }
        h = mix(h + slot);
        return (int) (h ^ (h >>> 32));
    }

    private static long mix(long h) {
        h *= 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 29);
    }
}
