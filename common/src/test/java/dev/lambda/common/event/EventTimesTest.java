package dev.lambda.common.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EventTimesTest {

    /** What java.time makes of the text: the instant, or the text "rejected". */
    private static Object javaTime(String text) {
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeException e) {
            return "rejected";
        }
    }

    private static Object ours(String text) {
        try {
            return EventTimes.parse(text);
        } catch (DateTimeException e) {
            return "rejected";
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-21T10:15:03Z", "2026-11-21T10:15:03.1Z", "2026-11-21T10:15:03.120Z",
            "2026-11-21T10:15:03.123456789Z", "2026-11-21T15:00:00+05:45", "2026-11-21T00:00:00.5-03:30", "2024-02-29T23:59:59-00:00",
            "1900-01-01T00:00:00+17:59", "9999-12-31T23:59:59.999-17:59"})
    void readsTheCommonFormByHandToTheInstantJavaTimeReads(String text) {
        Instant common = EventTimes.parseCommonForm(text);
        assertNotNull(common, text + " should not need java.time");
        assertEquals(javaTime(text), common, text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-21t10:15:03z", "2026-11-21T10:15Z", "2026-11-21T10:15:03+0545", "2026-11-21T10:15:03+05",
            "2026-11-21T10:15:03+05:45:30", "2026-11-21T10:15:03.Z", "2026-11-21T10:15:03.1234567890Z", "2026-02-29T10:15:03Z",
            "2026-11-31T10:15:03Z", "2026-11-21T24:00:00Z", "2026-11-21T23:59:60Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
            "2026-11-00T00:00:00Z", "2026-11-21T10:15:03+18:00", "2026-11-21T10:15:03+18:01", "2026-11-21T10:15:03", "+12026-11-21T10:15:03Z",
            "2026-11-21T10:15:03Z ", " 2026-11-21T10:15:03Z", "２026-11-21T10:15:03Z", "2026-11-21T10:15:03.12a3Z", ""})
    void leavesEveryOtherTextToJavaTimeAndAgreesWithIt(String text) {
        assertEquals(null, EventTimes.parseCommonForm(text), text);
        assertEquals(javaTime(text), ours(text), text);
    }

    /**
     * Random texts near the common form (fields out of range, fractions of 0 to 10 digits, every
     * offset spelling, stray characters): whatever java.time makes of each, so does the parser.
     */
    @Test
    void agreesWithJavaTimeOnRandomTextsNearTheCommonForm() {
        Random random = new Random(42);
        int readByHand = 0;
        for (int i = 0; i < 200_000; i++) {
            String text = nearCommonForm(random);
            assertEquals(javaTime(text), ours(text), text);
            if (EventTimes.parseCommonForm(text) != null) {
                readByHand++;
            }
        }
        assertTrue(readByHand > 20_000, "only " + readByHand + " texts were in the common form: the generator drifted");
    }

    private static String nearCommonForm(Random r) {
        StringBuilder s = new StringBuilder();
        s.append(pick(r, "1899", "1900", "1970", "2000", "2024", "2026", "2100", "9999", "0000", "20x6"));
        s.append('-').append(twoDigits(r, 14)).append('-').append(twoDigits(r, 32));
        s.append(r.nextInt(20) == 0 ? 't' : 'T');
        s.append(twoDigits(r, 25)).append(':').append(twoDigits(r, 61));
        if (r.nextInt(10) > 0) {
            s.append(':').append(twoDigits(r, 61));
        }
        if (r.nextBoolean()) {
            s.append('.');
            int digits = r.nextInt(11);
            for (int d = 0; d < digits; d++) {
                s.append((char) ('0' + r.nextInt(10)));
            }
        }
        switch (r.nextInt(8)) {
            case 0, 1, 2 -> s.append('Z');
            case 3 -> s.append('z');
            case 4 -> s.append(r.nextBoolean() ? '+' : '-').append(twoDigits(r, 20)).append(':').append(twoDigits(r, 61));
            case 5 -> s.append(r.nextBoolean() ? '+' : '-').append(twoDigits(r, 20)).append(twoDigits(r, 61));
            case 6 -> s.append('+').append(twoDigits(r, 20));
            default -> s.append('-').append(twoDigits(r, 19)).append(':').append(twoDigits(r, 60)).append(':').append(twoDigits(r, 60));
        }
        if (r.nextInt(50) == 0) {
            s.insert(r.nextInt(s.length() + 1), pick(r, " ", "x", "-", ":", "0"));
        }
        return s.toString();
    }

    private static String twoDigits(Random r, int below) {
        return String.format("%02d", r.nextInt(below));
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }
}
