package dev.lambda.common.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Parses the JSON envelope of DESIGN §2 from a Kafka record value, the same way in every layer.
 *
 * <p>"In the future" is judged against the record's ingest time (its Kafka timestamp), not the
 * wall clock, so replaying or recomputing the same records always reaches the same verdict.
 */
public final class EnvelopeParser {

    /**
     * The parser's version: raise it with every change to what a record value yields (the verdict,
     * a reject reason, an event's fields). The batch layer records it with each archived record and
     * parses records archived under another version again from their raw value when it recomputes,
     * so a parser fix heals the whole history (DESIGN §1), not just records archived after it.
     * (Still 1 after lone surrogates became {@code ?} and a reject's detail names java.time's reason:
     * the archive's Parquet writer had already stored those values so, and a detail is no verdict.)
     */
    public static final int VERSION = 1;

    public static final int MAX_ID_LENGTH = 128;
    public static final int MAX_TYPE_LENGTH = 128;
    /**
     * Longest attribute value, in characters; a longer one is shortened (see {@link #shorten}). An
     * attribute may be a dimension, and a view's dimension values together form one Cassandra
     * clustering value, which holds at most 64 KiB: {@code ViewCatalogLoader.MAX_DIMENSIONS} values
     * of this length fit, whatever the characters.
     */
    public static final int MAX_ATTR_LENGTH = 2_048;
    private static final int DIGEST_CHARS = 16;
    /**
     * Event times both layers bucket alike. Spark's timestamps reach from year 1 to 9999, but it
     * converts times before the Gregorian reform (and older local-mean-time offsets) through a
     * different calendar than java.time does; no analytics event is that old.
     */
    public static final Instant MIN_TS = Instant.parse("1900-01-01T00:00:00Z");
    public static final Instant MAX_TS = Instant.parse("9999-12-31T23:59:59.999Z");

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final long futureToleranceMillis;

    /** @param futureTolerance how far an event's {@code ts} may lie after its ingest time */
    public EnvelopeParser(Duration futureTolerance) {
        if (futureTolerance.isNegative()) {
            throw new IllegalArgumentException("future tolerance must not be negative, got " + futureTolerance);
        }
        this.futureToleranceMillis = futureTolerance.toMillis();
    }

    /**
     * @param value        the record value (UTF-8 JSON); {@code null} is rejected as malformed
     * @param ingestMillis the record's Kafka timestamp
     */
    public ParseResult parse(byte[] value, long ingestMillis) {
        if (value == null) {
            return rejected(RejectReason.MALFORMED_JSON, "record has no value");
        }
        try (JsonParser p = JSON.createParser(value)) {
            return parse(p, ingestMillis);
        } catch (JsonParseException e) {
            return rejected(RejectReason.MALFORMED_JSON, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            return rejected(RejectReason.MALFORMED_JSON, "unreadable JSON: " + e.getMessage());
        }
    }

    private ParseResult parse(JsonParser p, long ingestMillis) throws IOException {
        JsonToken first = p.nextToken();
        if (first == null) {
            return rejected(RejectReason.MALFORMED_JSON, "record value is empty");
        }
        if (first != JsonToken.START_OBJECT) {
            return rejected(RejectReason.NOT_AN_OBJECT, "event must be a JSON object, got " + describe(first));
        }
        String id = null;
        String type = null;
        String tsText = null;
        Map<String, String> attrs = Map.of();
        ParseResult problem = null;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "id" -> {
                    if (v != JsonToken.VALUE_STRING) {
                        problem = firstOf(problem, rejected(RejectReason.BAD_ID, "id must be a string, got " + describe(v)));
                        p.skipChildren();
                    } else {
                        id = wellFormed(p.getText());
                    }
                }
                case "type" -> {
                    if (v != JsonToken.VALUE_STRING) {
                        problem = firstOf(problem, rejected(RejectReason.BAD_TYPE, "type must be a string, got " + describe(v)));
                        p.skipChildren();
                    } else {
                        type = wellFormed(p.getText());
                    }
                }
                case "ts" -> {
                    if (v != JsonToken.VALUE_STRING) {
                        problem = firstOf(problem, rejected(RejectReason.BAD_TS, "ts must be an ISO-8601 string, got " + describe(v)));
                        p.skipChildren();
                    } else {
                        tsText = p.getText();
                    }
                }
                case "attrs" -> {
                    if (v == JsonToken.START_OBJECT) {
                        Map<String, String> read = new HashMap<>();
                        ParseResult attrProblem = readAttrs(p, read);
                        problem = firstOf(problem, attrProblem);
                        attrs = read;
                    } else if (v != JsonToken.VALUE_NULL) {
                        problem = firstOf(problem, rejected(RejectReason.ATTRS_NOT_FLAT, "attrs must be an object, got " + describe(v)));
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (p.nextToken() != null) {
            return rejected(RejectReason.MALFORMED_JSON, "unexpected content after the event object");
        }
        if (problem != null) {
            return problem;
        }
        return validate(id, type, tsText, attrs, ingestMillis);
    }

    private ParseResult validate(String id, String type, String tsText, Map<String, String> attrs, long ingestMillis) {
        if (id == null) {
            return rejected(RejectReason.MISSING_ID, "missing required field id");
        }
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return rejected(RejectReason.BAD_ID, "id must have 1 to " + MAX_ID_LENGTH + " characters, got " + id.length());
        }
        if (type == null) {
            return rejected(RejectReason.MISSING_TYPE, "missing required field type");
        }
        if (type.isEmpty() || type.length() > MAX_TYPE_LENGTH) {
            return rejected(RejectReason.BAD_TYPE, "type must have 1 to " + MAX_TYPE_LENGTH + " characters, got " + type.length());
        }
        if (tsText == null) {
            return rejected(RejectReason.MISSING_TS, "missing required field ts");
        }
        Instant ts;
        try {
            ts = EventTimes.parse(tsText);
        } catch (DateTimeException e) {
            // a well-formed time of a day that does not exist (Feb 29 of a common year, 24:00) says which part is wrong
            String why = e.getCause() instanceof DateTimeException cause ? ": " + cause.getMessage() : "";
            return rejected(RejectReason.BAD_TS, "ts \"" + abbreviate(tsText) + "\" is not an ISO-8601 time with offset" + why);
        }
        if (ts.isBefore(MIN_TS) || ts.isAfter(MAX_TS)) {
            return rejected(RejectReason.BAD_TS, "ts \"" + abbreviate(tsText) + "\" is outside the years 1900 to 9999");
        }
        if (ts.toEpochMilli() > ingestMillis + futureToleranceMillis) {
            return rejected(RejectReason.FUTURE_TS, "ts " + ts + " is more than " + Duration.ofMillis(futureToleranceMillis)
                    + " after ingest time " + Instant.ofEpochMilli(ingestMillis));
        }
        return new ParseResult.Valid(new Event(id, type, ts, attrs));
    }

    private static ParseResult readAttrs(JsonParser p, Map<String, String> into) throws IOException {
        ParseResult problem = null;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (v) {
                // (Jackson refuses a name with half a surrogate pair as malformed)
                case VALUE_STRING -> into.put(name, shorten(wellFormed(p.getText())));
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> into.put(name, p.getText());
                case VALUE_NULL -> { }
                default -> {
                    problem = firstOf(problem, rejected(RejectReason.ATTRS_NOT_FLAT,
                            "attrs." + name + " must be a string, number or boolean, got " + describe(v)));
                    p.skipChildren();
                }
            }
        }
        return problem;
    }

    /**
     * The text as its UTF-8 encoding reads back: a surrogate without its pair (JSON lets an escaped
     * {@code \ud83d} through) becomes {@code ?}, as it does in Cassandra's and Spark's encoders.
     * Otherwise two values that differ only there would be two aggregates of the speed layer but one
     * row in Cassandra and one group in the batch, and the layers would disagree.
     */
    static String wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            }
        }
        return s;
    }

    /**
     * A value of at most {@link #MAX_ATTR_LENGTH} characters: a longer one keeps its beginning,
     * followed by "…" and 16 hex digits of the SHA-256 of the whole value, so two long values that
     * differ still group apart. (The event still counts; the record's raw bytes stay in the master dataset.)
     */
    static String shorten(String value) {
        if (value.length() <= MAX_ATTR_LENGTH) {
            return value;
        }
        int keep = MAX_ATTR_LENGTH - 1 - DIGEST_CHARS;
        if (Character.isHighSurrogate(value.charAt(keep - 1))) {
            keep--; // never half a character
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            return value.substring(0, keep) + "…" + HexFormat.of().formatHex(digest).substring(0, DIGEST_CHARS);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static ParseResult firstOf(ParseResult current, ParseResult next) {
        return current != null ? current : next;
    }

    private static ParseResult rejected(RejectReason reason, String detail) {
        return new ParseResult.Rejected(reason, detail);
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.name();
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
