package dev.lambda.common.metric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Property-style checks (random inputs, fixed seeds) that every metric type is a commutative monoid. */
class MetricValueTest {

    private static final int ROUNDS = 300;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void everyTypeIsAssociativeAndCommutativeWithEmptyAsIdentity(long seed) {
        Random random = new Random(seed);
        checkMonoid(() -> new MetricValue.Count(random.nextInt(1_000_000)), MetricValue.Count.ZERO, MetricValue::read);
        checkMonoid(() -> new MetricValue.Sum(maybeDecimal(random)), MetricValue.Sum.EMPTY, MetricValue::read);
        checkMonoid(() -> new MetricValue.Min(maybeDecimal(random)), MetricValue.Min.EMPTY, MetricValue::read);
        checkMonoid(() -> new MetricValue.Max(maybeDecimal(random)), MetricValue.Max.EMPTY, MetricValue::read);
        checkMonoid(() -> sketchOf(random, random.nextInt(600)), MetricValue.Distinct.EMPTY, MetricValue::read);
    }

    private static <T extends MetricValue> void checkMonoid(Supplier<T> gen, T empty, Function<MetricValue, Object> view) {
        for (int i = 0; i < ROUNDS / 10; i++) {
            T a = gen.get();
            T b = gen.get();
            T c = gen.get();
            assertEquals(view.apply(a.plus(b).plus(c)), view.apply(a.plus(b.plus(c))), "associative");
            assertEquals(view.apply(a.plus(b)), view.apply(b.plus(a)), "commutative");
            assertEquals(view.apply(a), view.apply(a.plus(empty)), "right identity");
            assertEquals(view.apply(a), view.apply(empty.plus(a)), "left identity");
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {7, 8, 9})
    void sumsAreExactWhateverTheOrder(long seed) {
        Random random = new Random(seed);
        List<Long> cents = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            // amounts like 0.10 that double arithmetic cannot represent, and big ones next to tiny ones
            cents.add(random.nextBoolean() ? random.nextInt(1000) : (long) random.nextInt(1_000_000_000) * 1000);
        }
        long expectedCents = cents.stream().mapToLong(Long::longValue).sum();
        for (int shuffle = 0; shuffle < 5; shuffle++) {
            Collections.shuffle(cents, random);
            MetricValue.Sum total = MetricValue.Sum.EMPTY;
            for (long c : cents) {
                total = total.plus(new MetricValue.Sum(BigDecimal.valueOf(c, 2)));
            }
            assertEquals(BigDecimal.valueOf(expectedCents, 2), total.value());
        }
    }

    @Test
    void minAndMaxPickTheExtremesAndIgnoreEmpty() {
        List<String> amounts = List.of("3.10", "-2.50", "10.00", "0.01");
        MetricValue.Min min = MetricValue.Min.EMPTY;
        MetricValue.Max max = MetricValue.Max.EMPTY;
        for (String a : amounts) {
            min = min.plus(new MetricValue.Min(new BigDecimal(a))).plus(MetricValue.Min.EMPTY);
            max = max.plus(new MetricValue.Max(new BigDecimal(a))).plus(MetricValue.Max.EMPTY);
        }
        assertEquals(new BigDecimal("-2.50"), min.value());
        assertEquals(new BigDecimal("10.00"), max.value());
        assertNull(MetricValue.Sum.EMPTY.plus(MetricValue.Sum.EMPTY).value(), "a sum over no values is empty, not zero");
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13})
    void hllUnionEqualsTheSketchOfTheUnion(long seed) {
        Random random = new Random(seed);
        for (int round = 0; round < 12; round++) {
            int n = random.nextInt(6_000);
            List<String> values = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                values.add("user-" + random.nextInt(n + 1));
            }
            HllSketch whole = new HllSketch(12, TgtHllType.HLL_4);
            values.forEach(whole::update);
            // split at random into parts, sketch each, union in random order
            List<MetricValue.Distinct> parts = new ArrayList<>();
            for (String v : values) {
                int part = random.nextInt(4);
                while (parts.size() <= part) {
                    parts.add(MetricValue.Distinct.EMPTY);
                }
                parts.set(part, parts.get(part).plus(MetricValue.Distinct.of(v)));
            }
            Collections.shuffle(parts, random);
            MetricValue.Distinct union = MetricValue.Distinct.EMPTY;
            for (MetricValue.Distinct p : parts) {
                union = union.plus(p);
            }
            assertEquals(whole.getCompositeEstimate(), union.sketch().getCompositeEstimate(), 1e-9);
            long exact = new HashSet<>(values).size();
            assertEquals(exact, union.read(), Math.max(2, exact * 0.05), "estimate near the exact distinct count");
        }
    }

    @Test
    void sketchesSurviveSerialization() {
        MetricValue.Distinct d = sketchOf(new Random(5), 3_000);
        MetricValue.Distinct back = MetricValue.Distinct.fromBytes(d.toBytes());
        assertEquals(d.read(), back.read());
    }

    @Test
    void emptyStringsAreNotCountedAsDistinctValues() {
        assertEquals(0L, MetricValue.Distinct.of("").read());
        assertEquals(1L, MetricValue.Distinct.of("a").plus(MetricValue.Distinct.of("")).read());
    }

    @Test
    void addingDifferentTypesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MetricValue.Count(1).plus(MetricValue.Sum.EMPTY));
    }

    private static BigDecimal maybeDecimal(Random random) {
        return random.nextInt(5) == 0 ? null : BigDecimal.valueOf(random.nextLong() % 10_000_000_000L, random.nextInt(4));
    }

    private static MetricValue.Distinct sketchOf(Random random, int n) {
        HllSketch sketch = new HllSketch(12, TgtHllType.HLL_4);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            int v = random.nextInt(n * 2 + 1);
            seen.add(v);
            sketch.update(Integer.toString(v));
        }
        return new MetricValue.Distinct(sketch);
    }
}
