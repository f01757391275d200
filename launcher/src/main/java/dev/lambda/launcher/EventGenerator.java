package dev.lambda.launcher;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Realistic demo traffic: page views, purchases and sign-ups from a few thousand users in a handful
 * of countries, with a share of at-least-once re-sends (the same id and body again), late events
 * (event time minutes to hours in the past) and malformed records. Deterministic for a seed.
 */
public final class EventGenerator {

    /** One Kafka record: the key (the event id, so re-sends share a partition) and the JSON value. */
    public record GeneratedRecord(String key, String value, Kind kind) {
    }

    public enum Kind { FRESH, LATE, DUPLICATE, MALFORMED }

    private static final String[] COUNTRIES = {"US", "IN", "NP", "DE", "BR", "GB", "JP", "FR", "NG", "MX"};
    private static final int[] COUNTRY_WEIGHTS = {30, 22, 8, 8, 7, 7, 6, 5, 4, 3};
    private static final String[] PAGES = {"/", "/pricing", "/docs", "/docs/api", "/blog", "/blog/lambda",
            "/signup", "/cart", "/checkout", "/about"};
    private static final int USERS = 5_000;
    private static final int PRODUCTS = 40;
    private static final int RECENT = 1_000;

    private final Random random;
    private final double duplicateRate;
    private final double lateRate;
    private final double malformedRate;
    private final List<GeneratedRecord> recent = new ArrayList<>(); // records a re-send may repeat

    /** Rates are fractions of the records produced (0.01 = 1 %). */
    public EventGenerator(long seed, double duplicateRate, double lateRate, double malformedRate) {
        for (double rate : new double[] {duplicateRate, lateRate, malformedRate}) {
            if (rate < 0 || rate > 0.5) {
                throw new IllegalArgumentException("rates must lie between 0 and 0.5, got " + rate);
            }
        }
        this.random = new Random(seed);
        this.duplicateRate = duplicateRate;
        this.lateRate = lateRate;
        this.malformedRate = malformedRate;
    }

    /** The next record, for an event happening around {@code now}. */
    public GeneratedRecord next(Instant now) {
        double roll = random.nextDouble();
        if (roll < duplicateRate && !recent.isEmpty()) {
            GeneratedRecord original = recent.get(random.nextInt(recent.size()));
            return new GeneratedRecord(original.key(), original.value(), Kind.DUPLICATE);
        }
        roll -= duplicateRate;
        if (roll < malformedRate) {
            return malformed();
        }
        roll -= malformedRate;
        boolean late = roll < lateRate;
        Instant ts = late ? now.minus(Duration.ofSeconds(60 + random.nextInt(3 * 3600))) : now.minusMillis(random.nextInt(2000));
        GeneratedRecord record = event(ts, late ? Kind.LATE : Kind.FRESH);
        if (recent.size() < RECENT) {
            recent.add(record);
        } else {
            recent.set(random.nextInt(RECENT), record);
        }
        return record;
    }

    private GeneratedRecord event(Instant ts, Kind kind) {
        String id = new UUID(random.nextLong(), random.nextLong()).toString();
        String user = "u" + (int) Math.floor(USERS * Math.pow(random.nextDouble(), 2)); // a few heavy users
        String country = weighted(COUNTRIES, COUNTRY_WEIGHTS);
        int type = random.nextInt(100);
        String attrs;
        String eventType;
        if (type < 85) {
            eventType = "page_view";
            attrs = "\"user_id\":\"" + user + "\",\"page\":\"" + PAGES[random.nextInt(PAGES.length)] + "\",\"country\":\"" + country + "\"";
        } else if (type < 97) {
            eventType = "purchase";
            BigDecimal amount = BigDecimal.valueOf(299 + random.nextInt(19_700), 2);
            attrs = "\"user_id\":\"" + user + "\",\"product\":\"p" + (1 + random.nextInt(PRODUCTS)) + "\",\"country\":\""
                    + country + "\",\"amount\":\"" + amount.toPlainString() + "\"";
        } else {
            eventType = "signup";
            attrs = "\"user_id\":\"" + user + "\",\"country\":\"" + country + "\",\"plan\":\""
                    + (random.nextBoolean() ? "free" : "pro") + "\"";
        }
        String value = "{\"id\":\"" + id + "\",\"type\":\"" + eventType + "\",\"ts\":\"" + ts + "\",\"attrs\":{" + attrs + "}}";
        return new GeneratedRecord(id, value, kind);
    }

    private GeneratedRecord malformed() {
        String id = new UUID(random.nextLong(), random.nextLong()).toString();
        String[] bad = {
            "{\"id\":\"" + id + "\",\"type\":\"page_view\",\"ts\":\"yesterday\",\"attrs\":{}}",
            "{\"id\":\"" + id + "\",\"ts\":\"2026-01-01T00:00:00Z\",\"attrs\":{}}",
            "{\"id\":\"" + id + "\",\"type\":\"page_view\",\"ts\":\"2026-01-01T00:00:00Z\",\"attrs\":{\"nested\":{\"a\":1}}}",
            "not json at all " + id,
        };
        return new GeneratedRecord(id, bad[random.nextInt(bad.length)], Kind.MALFORMED);
    }

    private String weighted(String[] values, int[] weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int pick = random.nextInt(total);
        for (int i = 0; i < values.length; i++) {
            pick -= weights[i];
            if (pick < 0) {
                return values[i];
            }
        }
        return values[values.length - 1];
    }
}
