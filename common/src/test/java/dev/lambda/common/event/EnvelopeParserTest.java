package dev.lambda.common.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class EnvelopeParserTest {

    private static final long INGEST = Instant.parse("2026-11-21T10:15:05Z").toEpochMilli();
    private final EnvelopeParser parser = new EnvelopeParser(Duration.ofMinutes(5));

    private ParseResult parse(String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8), INGEST);
    }

    @Test
    void parsesAValidEventKeepingAttributeTextCanonical() {
        ParseResult r = parse("""
                {"id":"7b0c","type":"purchase","ts":"2026-11-21T10:15:03.120Z","extra":{"ignored":[1,2]},
                 "attrs":{"user_id":"u17","amount":12.50,"qty":3,"gift":false,"coupon":null}}""");
        Event e = assertInstanceOf(ParseResult.Valid.class, r).event();
        assertEquals("7b0c", e.id());
        assertEquals("purchase", e.type());
        assertEquals(Instant.parse("2026-11-21T10:15:03.120Z"), e.ts());
        assertEquals(Map.of("user_id", "u17", "amount", "12.50", "qty", "3", "gift", "false"), e.attrs());
    }

    @Test
    void acceptsAnyOffsetAndMissingAttrs() {
        Event e = ((ParseResult.Valid) parse("{\"id\":\"a\",\"type\":\"t\",\"ts\":\"2026-11-21T15:00:00+05:45\"}")).event();
        assertEquals(Instant.parse("2026-11-21T09:15:00Z"), e.ts());
        assertEquals(Map.of(), e.attrs());
    }

    @Test
    void aSurrogateWithoutItsPairReadsAsCassandraAndSparkStoreIt() {
        // two values that differ only in a lone surrogate are one row in Cassandra and one group in the batch: "?" for each
        String event = "{\"id\":\"a\\ud83d\",\"type\":\"purchase\",\"ts\":\"2026-11-21T10:00:00Z\","
                + "\"attrs\":{\"product\":\"Pizza %s\"}}";
        Event lone = assertInstanceOf(ParseResult.Valid.class, parse(event.formatted("\\ud83d"))).event();
        Event other = assertInstanceOf(ParseResult.Valid.class, parse(event.formatted("\\udc00"))).event();
        assertEquals(Map.of("product", "Pizza ?"), lone.attrs());
        assertEquals(lone.attrs(), other.attrs());
        assertEquals("a?", lone.id());
        Event paired = assertInstanceOf(ParseResult.Valid.class, parse(event.formatted("\\ud83c\\udf55"))).event();
        assertEquals("Pizza \ud83c\udf55", paired.attrs().get("product"), "a whole character stays as it is");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            malformed_json | {"id":"a",                                                          | not valid JSON
            malformed_json | {"id":"a","id":"b","type":"t","ts":"2026-11-21T10:00:00Z"}          | Duplicate field 'id'
            malformed_json | {"id":"a","type":"t","ts":"2026-11-21T10:00:00Z"} {}                | unexpected content after the event object
            not_an_object  | ["id","a"]                                                          | event must be a JSON object, got an array
            missing_id     | {"type":"t","ts":"2026-11-21T10:00:00Z"}                            | missing required field id
            bad_id         | {"id":"","type":"t","ts":"2026-11-21T10:00:00Z"}                    | id must have 1 to 128 characters, got 0
            bad_id         | {"id":7,"type":"t","ts":"2026-11-21T10:00:00Z"}                     | id must be a string, got a number
            missing_type   | {"id":"a","ts":"2026-11-21T10:00:00Z"}                              | missing required field type
            bad_type       | {"id":"a","type":["t"],"ts":"2026-11-21T10:00:00Z"}                 | type must be a string, got an array
            missing_ts     | {"id":"a","type":"t"}                                               | missing required field ts
            bad_ts         | {"id":"a","type":"t","ts":"2026-11-21T10:00:00"}                    | is not an ISO-8601 time with offset
            bad_ts         | {"id":"a","type":"t","ts":1763720000}                               | ts must be an ISO-8601 string, got a number
            future_ts      | {"id":"a","type":"t","ts":"2026-11-21T10:20:06Z"}                   | is more than PT5M after ingest time 2026-11-21T10:15:05Z
            attrs_not_flat | {"id":"a","type":"t","ts":"2026-11-21T10:00:00Z","attrs":{"a":{"b":1}}} | attrs.a must be a string, number or boolean, got an object
            attrs_not_flat | {"id":"a","type":"t","ts":"2026-11-21T10:00:00Z","attrs":[1]}       | attrs must be an object, got an array
            bad_ts         | {"id":"a","type":"t","ts":"-999999999-01-01T00:00:00Z"}             | is outside the years 1900 to 9999
            bad_ts         | {"id":"a","type":"t","ts":"+999999999-12-31T23:59:59Z"}             | is outside the years 1900 to 9999
            bad_ts         | {"id":"a","type":"t","ts":"1899-12-31T23:59:59Z"}                   | is outside the years 1900 to 9999
            bad_ts         | {"id":"a","type":"t","ts":"2026-02-30T10:00:00Z"}                   | is not an ISO-8601 time with offset
            bad_ts         | {"id":"a","type":"t","ts":"2025-02-29T10:00:00Z"}                   | '2025' is not a leap year
            """)
    void rejectsWithAReasonAndAMessageNamingTheProblem(String code, String json, String message) {
        ParseResult.Rejected r = assertInstanceOf(ParseResult.Rejected.class, parse(json));
        assertEquals(code, r.reason().code());
        assertTrue(r.detail().contains(message), r.detail());
    }

    @Test
    void attributeValuesLongerThan2048CharactersAreShortenedKeepingThemApart() {
        String event = "{\"id\":\"a\",\"type\":\"t\",\"ts\":\"2026-11-21T10:00:00Z\",\"attrs\":{\"page\":\"%s\"}}";
        String exact = "x".repeat(2048);
        assertEquals(exact, ((ParseResult.Valid) parse(event.formatted(exact))).event().attr("page"));
        String a = ((ParseResult.Valid) parse(event.formatted("x".repeat(3000) + "a"))).event().attr("page");
        String b = ((ParseResult.Valid) parse(event.formatted("x".repeat(3000) + "b"))).event().attr("page");
        assertEquals(2048, a.length());
        assertTrue(a.startsWith("x".repeat(2031) + "…"), a);
        assertTrue(!a.equals(b), "values that differ only past the cut still differ");
        assertEquals(a, ((ParseResult.Valid) parse(event.formatted("x".repeat(3000) + "a"))).event().attr("page"), "the same every time");
        String emoji = "\uD83D\uDE00".repeat(1500); // 3000 chars of surrogate pairs: never cut in half
        String cut = EnvelopeParser.shorten(emoji);
        assertTrue(!Character.isHighSurrogate(cut.charAt(cut.indexOf('…') - 1)), "no half character before the mark");
        assertInstanceOf(ParseResult.Valid.class, parse("{\"id\":\"a\",\"type\":\"t\",\"ts\":\"1900-01-01T00:00:00Z\"}"));
    }

    @Test
    void idLongerThan128CharactersIsRejected() {
        String id = "x".repeat(129);
        var r = assertInstanceOf(ParseResult.Rejected.class, parse("{\"id\":\"" + id + "\",\"type\":\"t\",\"ts\":\"2026-11-21T10:00:00Z\"}"));
        assertEquals(RejectReason.BAD_ID, r.reason());
        assertInstanceOf(ParseResult.Valid.class, parse("{\"id\":\"" + id.substring(1) + "\",\"type\":\"t\",\"ts\":\"2026-11-21T10:00:00Z\"}"));
    }

    @Test
    void emptyNullAndNonUtf8ValuesAreMalformed() {
        assertEquals(RejectReason.MALFORMED_JSON, ((ParseResult.Rejected) parser.parse(null, INGEST)).reason());
        assertEquals(RejectReason.MALFORMED_JSON, ((ParseResult.Rejected) parser.parse(new byte[0], INGEST)).reason());
        assertEquals(RejectReason.MALFORMED_JSON,
                ((ParseResult.Rejected) parser.parse(new byte[] {(byte) 0xff, (byte) 0xfe, '{'}, INGEST)).reason());
    }

    @Test
    void futureToleranceIsMeasuredFromIngestTimeNotTheWallClock() {
        String json = "{\"id\":\"a\",\"type\":\"t\",\"ts\":\"2026-11-21T10:20:05Z\"}";
        assertInstanceOf(ParseResult.Valid.class, parse(json), "exactly at the tolerance is fine");
        assertInstanceOf(ParseResult.Valid.class, parse("{\"id\":\"a\",\"type\":\"t\",\"ts\":\"2001-01-01T00:00:00Z\"}"), "very late is fine");
    }
}
