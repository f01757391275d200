package dev.lambda.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.event.Event;
import dev.lambda.common.event.ParseResult;
import dev.lambda.launcher.EventGenerator.GeneratedRecord;
import dev.lambda.launcher.EventGenerator.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the demo's events promise: each kind is what it says to the layers' parser, in about the shares asked for. */
class EventGeneratorTest {

    private static final int N = 20_000;

    @Test
    void eachKindOfRecordIsWhatTheLayersMakeOfIt() {
        EventGenerator generator = new EventGenerator(42, 0.05, 0.10, 0.02);
        EnvelopeParser parser = new EnvelopeParser(Duration.ofMinutes(5));
        Instant now = Instant.parse("2026-11-24T12:00:00Z");
        Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        Map<String, String> valueById = new HashMap<>();
        for (int i = 0; i < N; i++) {
            GeneratedRecord r = generator.next(now);
            counts.merge(r.kind(), 1, Integer::sum);
            ParseResult parsed = parser.parse(r.value().getBytes(StandardCharsets.UTF_8), now.toEpochMilli());
            switch (r.kind()) {
                case MALFORMED -> assertInstanceOf(ParseResult.Rejected.class, parsed, r.value());
                case DUPLICATE -> assertEquals(valueById.get(r.key()), r.value(), "a re-send repeats an earlier record exactly");
                case FRESH, LATE -> {
                    Event e = assertInstanceOf(ParseResult.Valid.class, parsed, r.value()).event();
                    assertEquals(r.key(), e.id(), "keyed by its id, so re-sends share a partition");
                    assertTrue(Set.of("page_view", "purchase", "signup").contains(e.type()), e.type());
                    Duration age = Duration.between(e.ts(), now);
                    if (r.kind() == Kind.FRESH) {
                        assertTrue(age.compareTo(Duration.ofSeconds(2)) <= 0 && !age.isNegative(), "fresh: " + age);
                    } else {
                        assertTrue(age.compareTo(Duration.ofMinutes(1)) >= 0 && age.compareTo(Duration.ofHours(3).plusMinutes(1)) <= 0,
                                "late: " + age);
                    }
                    assertTrue(valueById.put(r.key(), r.value()) == null, "a new event has a new id");
                }
            }
        }
        assertShare(counts, Kind.DUPLICATE, 0.05);
        assertShare(counts, Kind.MALFORMED, 0.02);
        assertShare(counts, Kind.LATE, 0.10);
    }

    private static void assertShare(Map<Kind, Integer> counts, Kind kind, double rate) {
        double share = counts.getOrDefault(kind, 0) / (double) N;
        assertTrue(Math.abs(share - rate) < rate * 0.2, kind + ": " + share + " of the records, asked for " + rate);
    }
}
