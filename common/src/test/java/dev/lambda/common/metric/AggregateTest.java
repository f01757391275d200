package dev.lambda.common.metric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.lambda.common.event.Event;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AggregateTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().parse("""
            views:
              - name: sales
                events: [purchase]
                dimensions: [country]
                granularity: minute
                metrics:
                  - {name: orders, type: count}
                  - {name: revenue, type: sum, field: amount, scale: 2}
                  - {name: smallest, type: min, field: amount, scale: 2}
                  - {name: biggest, type: max, field: amount, scale: 2}
                  - {name: buyers, type: distinct, field: user}
            """).views().get(0);

    @Test
    void foldingEventsMatchesAStraightforwardComputation() {
        Random random = new Random(99);
        List<Event> events = new ArrayList<>();
        long cents = 0;
        long minCents = Long.MAX_VALUE;
        long maxCents = Long.MIN_VALUE;
        Set<String> users = new HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            long c = random.nextInt(100_000) - 10_000;
            String user = "u" + random.nextInt(300);
            events.add(purchase(BigDecimal.valueOf(c, 2).toPlainString(), user));
            cents += c;
            minCents = Math.min(minCents, c);
            maxCents = Math.max(maxCents, c);
            users.add(user);
        }
        Aggregate total = Aggregate.zero(SALES);
        for (Event e : events) {
            total = total.plus(Aggregate.of(SALES, e));
        }
        assertEquals(2_000L, total.get(0).read());
        assertEquals(BigDecimal.valueOf(cents, 2), total.get(1).read());
        assertEquals(BigDecimal.valueOf(minCents, 2), total.get(2).read());
        assertEquals(BigDecimal.valueOf(maxCents, 2), total.get(3).read());
        assertEquals((double) users.size(), ((Long) total.get(4).read()).doubleValue(), users.size() * 0.03);
    }

    @Test
    void addingAnEventEqualsPlusOfItsSingleEventAggregate() {
        Random random = new Random(4);
        Aggregate viaAdd = Aggregate.zero(SALES);
        Aggregate viaPlus = Aggregate.zero(SALES);
        for (int i = 0; i < 3_000; i++) {
            String amount = random.nextInt(10) == 0 ? "n/a" : BigDecimal.valueOf(random.nextInt(100_000), 3).toPlainString();
            Event e = purchase(amount, random.nextInt(8) == 0 ? "" : "u" + random.nextInt(1_000));
            viaAdd = viaAdd.add(SALES, e);
            viaPlus = viaPlus.plus(Aggregate.of(SALES, e));
        }
        assertEquals(viaPlus.values().stream().map(MetricValue::read).toList(), viaAdd.values().stream().map(MetricValue::read).toList());
    }

    @Test
    void sumOfManyEqualsFoldingWithPlus() {
        Random random = new Random(8);
        List<Aggregate> parts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            parts.add(Aggregate.of(SALES, purchase(BigDecimal.valueOf(random.nextInt(10_000), 2).toPlainString(), "u" + random.nextInt(2_000))));
        }
        Aggregate folded = parts.stream().reduce(Aggregate.zero(SALES), Aggregate::plus);
        assertEquals(folded.values().stream().map(MetricValue::read).toList(),
                Aggregate.sum(parts).values().stream().map(MetricValue::read).toList());
        assertEquals(parts.get(3).values().stream().map(MetricValue::read).toList(),
                Aggregate.sum(List.of(parts.get(3))).values().stream().map(MetricValue::read).toList());
    }

    @Test
    void amountsAreRoundedHalfUpToTheDeclaredScale() {
        Aggregate a = Aggregate.of(SALES, purchase("12.345", "u1")).plus(Aggregate.of(SALES, purchase("-0.005", "u2")));
        assertEquals(new BigDecimal("12.34"), a.get(1).read()); // 12.35 + (-0.01)
        assertEquals(new BigDecimal("-0.01"), a.get(2).read());
        assertEquals(new BigDecimal("12.35"), a.get(3).read());
    }

    @Test
    void missingOrNonNumericAmountsCountTheEventButAddNoValue() {
        Event noAmount = new Event("x", "purchase", Instant.EPOCH, Map.of("user", "u1"));
        Aggregate a = Aggregate.of(SALES, noAmount).plus(Aggregate.of(SALES, purchase("twelve", "u2")));
        assertEquals(2L, a.get(0).read());
        assertNull(a.get(1).read());
        assertNull(a.get(2).read());
        assertEquals(2L, a.get(4).read());
    }

    private static int counter;

    private static Event purchase(String amount, String user) {
        return new Event("e" + counter++, "purchase", Instant.parse("2026-11-21T10:00:00Z"),
                Map.of("amount", amount, "user", user, "country", "NP"));
    }
}
