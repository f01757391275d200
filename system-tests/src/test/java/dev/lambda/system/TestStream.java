package dev.lambda.system;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * A seeded random event stream for the end-to-end invariant: several event types (one that feeds no
 * view), attributes missing now and then, numbers as strings and as JSON numbers, events late by
 * minutes to days and slightly ahead, re-sends of the same record within a wave (inside the dedup
 * window) and of earlier waves' records (beyond it), a third of them by a producer that keys the
 * record otherwise (so the copy may land in another partition, where the speed layer's per-partition
 * dedup cannot see the first), and malformed records of several kinds. It
 * knows by construction which records are malformed; nothing here parses like the layers do.
 */
final class TestStream {

    /** An event as produced; {@code attrs} holds every attribute as text (numbers in plain form). */
    record TestEvent(String id, String type, Instant ts, Map<String, String> attrs) {
    }

    /** One record to send: key, value, and the event behind it ({@code null} for a malformed record). */
    record Outgoing(String key, byte[] value, TestEvent event) {
    }

    static final List<String> COUNTRIES = List.of("NP", "IN", "US", "DE", "BR");
    static final List<String> PAGES = List.of("/", "/pricing", "/docs", "/blog", "/cart");
    static final List<String> PRODUCTS = List.of("p1", "p2", "p3", "p4", "p5", "p6");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Random random;
    private final List<Outgoing> history = new ArrayList<>();

    TestStream(long seed) {
        this.random = new Random(seed);
    }

    /** The records of one wave of {@code size} records produced around {@code now}. */
    List<Outgoing> wave(int size, Instant now) {
        List<Outgoing> wave = new ArrayList<>(size);
        List<Outgoing> earlier = List.copyOf(history);
        while (wave.size() < size) {
            int roll = random.nextInt(100);
            if (roll < 4 && !wave.isEmpty()) {
                wave.add(resent(pick(wave))); // re-sent within the wave: inside the dedup window
            } else if (roll < 7 && !earlier.isEmpty()) {
                wave.add(resent(pick(earlier))); // re-sent from an earlier wave: beyond the window
            } else if (roll < 9) {
                wave.add(malformed(now));
            } else {
                Outgoing fresh = event(now.plus(offset(roll)));
                wave.add(fresh);
                history.add(fresh);
            }
        }
        return wave;
    }

    /** How far the event time lies from now: mostly just now, some late by minutes, hours or days, a few ahead. */
    private Duration offset(int roll) {
        if (roll < 15) {
            return Duration.ofMinutes(-(5 + random.nextInt(20 * 60))); // late by minutes to hours
        }
        if (roll < 19) {
            return Duration.ofHours(-(48 + random.nextInt(8 * 24))); // very late: days
        }
        if (roll < 21) {
            return Duration.ofSeconds(random.nextInt(120)); // slightly ahead, within the tolerance
        }
        return Duration.ofMillis(-random.nextInt(120_000)); // out of order within the last two minutes
    }

    /** The same record re-sent, a third of the time under another key (another producer), so perhaps to another partition. */
    private Outgoing resent(Outgoing record) {
        return random.nextInt(3) == 0 ? new Outgoing(record.key() + "@another-producer", record.value(), record.event()) : record;
    }

    private Outgoing pick(List<Outgoing> from) {
        return from.get(random.nextInt(from.size())); // a malformed record may be re-sent too
    }

    private Outgoing event(Instant ts) {
        String id = new UUID(random.nextLong(), random.nextLong()).toString();
        int t = random.nextInt(100);
        String type = t < 55 ? "page_view" : t < 80 ? "purchase" : t < 93 ? "signup" : "heartbeat";
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("user_id", "u" + random.nextInt(400));
        if (random.nextInt(20) > 0) {
            attrs.put("country", COUNTRIES.get(random.nextInt(COUNTRIES.size())));
        }
        ObjectNode json = JSON.createObjectNode();
        json.put("id", id).put("type", type).put("ts", ts.toString());
        ObjectNode a = json.putObject("attrs");
        attrs.forEach(a::put);
        if (type.equals("page_view")) {
            String page = PAGES.get(random.nextInt(PAGES.size()));
            attrs.put("page", page);
            a.put("page", page);
        } else if (type.equals("purchase")) {
            String product = PRODUCTS.get(random.nextInt(PRODUCTS.size()));
            attrs.put("product", product);
            a.put("product", product);
            if (random.nextInt(20) > 0) { // a purchase without an amount still counts as an order
                BigDecimal amount = BigDecimal.valueOf(50 + random.nextInt(30_000), 2);
                attrs.put("amount", amount.toPlainString());
                if (random.nextBoolean()) {
                    a.put("amount", amount.toPlainString());
                } else {
                    a.put("amount", amount);
                }
            }
        }
        return new Outgoing(id, json.toString().getBytes(StandardCharsets.UTF_8), new TestEvent(id, type, ts, attrs));
    }

    private Outgoing malformed(Instant now) {
        String id = new UUID(random.nextLong(), random.nextLong()).toString();
        String[] kinds = {
            "{\"id\":\"" + id + "\",\"type\":\"page_view\",\"ts\":\"not a time\",\"attrs\":{}}",
            "{\"id\":\"" + id + "\",\"type\":\"page_view\",\"attrs\":{}}",
            "{\"type\":\"purchase\",\"ts\":\"" + now + "\",\"attrs\":{}}",
            "{\"id\":\"" + id + "\",\"type\":\"purchase\",\"ts\":\"" + now.plus(Duration.ofHours(2)) + "\",\"attrs\":{}}",
            "{\"id\":\"" + id + "\",\"type\":\"page_view\",\"ts\":\"" + now + "\",\"attrs\":{\"country\":{\"a\":1}}}",
            "[1,2,3]",
            "{\"id\":\"" + id + "\", broken",
        };
        return new Outgoing(id, kinds[random.nextInt(kinds.length)].getBytes(StandardCharsets.UTF_8), null);
    }
}
