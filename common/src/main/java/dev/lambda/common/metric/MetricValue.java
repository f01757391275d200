package dev.lambda.common.metric;

import java.math.BigDecimal;
import java.util.Objects;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;

/**
 * The value of one metric for one key (DESIGN §3). Every type is a commutative monoid: {@link #plus}
 * is associative and commutative and the empty value is its identity, so batch + speed merges,
 * rollups to coarser levels and partition merges are all the same operation.
 *
 * <p>Decimal values are exact ({@link BigDecimal}, never double); {@code null} inside Sum/Min/Max
 * means "no values yet", as SQL's SUM/MIN/MAX over no rows.
 */
public sealed interface MetricValue {

    /** The combination of this value and {@code other}, which must be of the same type. */
    MetricValue plus(MetricValue other);

    /** The value as a reader sees it: a Long count, a BigDecimal (or null), or a rounded Long estimate. */
    Object read();

    record Count(long count) implements MetricValue {
        public static final Count ZERO = new Count(0);

        @Override
        public Count plus(MetricValue other) {
            return new Count(Math.addExact(count, as(Count.class, other).count));
        }

        @Override
        public Long read() {
            return count;
        }
    }

    record Sum(BigDecimal value) implements MetricValue {
        public static final Sum EMPTY = new Sum(null);

        @Override
        public Sum plus(MetricValue other) {
            BigDecimal o = as(Sum.class, other).value;
            if (value == null) {
                return o == null ? this : (Sum) other;
            }
            return o == null ? this : new Sum(value.add(o));
        }

        @Override
        public BigDecimal read() {
            return value;
        }
    }

    record Min(BigDecimal value) implements MetricValue {
        public static final Min EMPTY = new Min(null);

        @Override
        public Min plus(MetricValue other) {
            BigDecimal o = as(Min.class, other).value;
            if (value == null) {
                return (Min) other;
            }
            return o == null || value.compareTo(o) <= 0 ? this : (Min) other;
        }

        @Override
        public BigDecimal read() {
            return value;
        }
    }

    record Max(BigDecimal value) implements MetricValue {
        public static final Max EMPTY = new Max(null);

        @Override
        public Max plus(MetricValue other) {
            BigDecimal o = as(Max.class, other).value;
            if (value == null) {
                return (Max) other;
            }
            return o == null || value.compareTo(o) >= 0 ? this : (Max) other;
        }

        @Override
        public BigDecimal read() {
            return value;
        }
    }

    /**
     * A DataSketches HLL sketch (lgK 12, HLL_4). Spark's {@code hll_sketch_agg} builds the same
     * registers as HLL_8 (the batch stores them as HLL_4), so batch and speed sketches union. Its operations never mutate a sketch; the one
     * exception is the speed layer, whose aggregates lend their live sketches to the store and the
     * sink for the length of a call that encodes them.
     */
    record Distinct(HllSketch sketch) implements MetricValue {
        public static final int LG_K = 12;
        public static final TgtHllType TYPE = TgtHllType.HLL_4;
        public static final Distinct EMPTY = new Distinct(new HllSketch(LG_K, TYPE));

        public Distinct {
            Objects.requireNonNull(sketch, "sketch");
        }

        /** A sketch of one value, hashed as Spark hashes a string column; empty strings are ignored as Spark does. */
        public static Distinct of(String value) {
            HllSketch sketch = new HllSketch(LG_K, TYPE);
            sketch.update(value);
            return new Distinct(sketch);
        }

        /** This sketch plus one value: a copy updated directly, no union needed. */
        public Distinct with(String value) {
            HllSketch copy = sketch.copy();
            copy.update(value);
            return new Distinct(copy);
        }

        public static Distinct fromBytes(byte[] bytes) {
            return new Distinct(HllSketch.heapify(bytes));
        }

        public byte[] toBytes() {
            return sketch.toCompactByteArray();
        }

        @Override
        public Distinct plus(MetricValue other) {
            HllSketch o = as(Distinct.class, other).sketch;
            if (o.isEmpty()) {
                return this;
            }
            if (sketch.isEmpty()) {
                return (Distinct) other;
            }
            Union union = new Union(LG_K);
            union.update(sketch);
            union.update(o);
            return new Distinct(union.getResult(TYPE));
        }

        /**
         * The distinct-count estimate, rounded to a whole number. It is the composite estimate,
         * which depends only on the sketch's registers: the HIP estimate of a sketch built in one
         * pass differs from that of a union with the same registers, which would make the answer
         * depend on how rows happened to be merged.
         */
        @Override
        public Long read() {
            return Math.round(sketch.getCompositeEstimate());
        }
    }

    private static <T extends MetricValue> T as(Class<T> type, MetricValue other) {
        if (!type.isInstance(other)) {
            throw new IllegalArgumentException("cannot add " + other.getClass().getSimpleName() + " to " + type.getSimpleName());
        }
        return type.cast(other);
    }
}
