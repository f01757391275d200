package dev.lambda.speed.testing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded random event streams for tests: page views, purchases and signups over a few pages,
 * products and countries, with duplicates (same id re-sent), late events (old event times) and
 * out-of-order event times. Each event carries the ingest time it is to be given.
 */
public final class RandomEvents {

    public record Generated(String id, String type, Instant ts, Map<String, String> attrs, long ingest) {
        public String json() {
            StringBuilder a = new StringBuilder();
            attrs.forEach((k, v) -> a.append(a.isEmpty() ? "" : ",").append('"').append(k).append("\":\"").append(v).append('"'));
            return "{\"id\":\"" + id + "\",\"type\":\"" + type + "\",\"ts\":\"" + ts + "\",\"attrs\":{" + a + "}}";
        }
    }

    private static final String[] COUNTRIES = {"NP", "IN", "DE", "US", "BR"};

    private final Random random;
    private final List<Generated> sent = new ArrayList<>();
    private int next;

    public RandomEvents(long seed) {
        this.random = new Random(seed);
    }

    /**
     * @param ingest  ingest time to give it
     * @param dupRate probability that the event is a re-send of an earlier one
     * @param lateRate probability that its event time lies hours or days before ingest
     */
    public Generated next(long ingest, double dupRate, double lateRate) {
        if (!sent.isEmpty() && random.nextDouble() < dupRate) {
            Generated original = sent.get(random.nextInt(sent.size()));
            Generated again = new Generated(original.id(), original.type(), original.ts(), original.attrs(), ingest);
            sent.add(again);
            return again;
        }
        long offset = random.nextDouble() < lateRate
                ? -(long) (random.nextDouble() * 3 * 86_400_000L)
                : -(long) (random.nextDouble() * 120_000); // out of order within two minutes
        Instant ts = Instant.ofEpochMilli(ingest + offset);
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("user_id", "u" + random.nextInt(400));
        if (random.nextInt(20) != 0) {
            attrs.put("country", COUNTRIES[random.nextInt(COUNTRIES.length)]);
        }
        String type;
        int kind = random.nextInt(10);
        if (kind < 6) {
            type = "page_view";
            attrs.put("page", "/p" + random.nextInt(12));
        } else if (kind < 9) {
            type = "purchase";
            attrs.put("product", "sku-" + random.nextInt(8));
            if (random.nextInt(15) != 0) {
                attrs.put("amount", (random.nextInt(20_000) + 1) / 100 + "." + String.format("%02d", random.nextInt(100)));
            }
        } else {
            type = "signup";
        }
        Generated g = new Generated("ev-" + next++ + "-" + Long.toHexString(random.nextLong()), type, ts, attrs, ingest);
        sent.add(g);
        return g;
    }
}
