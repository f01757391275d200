package dev.lambda.serving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lambda.common.time.Granularity;
import dev.lambda.serving.query.Answer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Encoded bodies are shared by the same answer instance only, from its second request on, and their memory is bounded. */
class EncodedAnswersTest {

    private final AtomicInteger encodings = new AtomicInteger();

    private static Answer answer() {
        return new Answer(null, Granularity.DAY, 1L, null, null, List.of());
    }

    private Function<Answer, byte[]> bytes(int size) {
        return a -> {
            encodings.incrementAndGet();
            return new byte[size];
        };
    }

    @Test
    void theSameAnswerInstanceIsEncodedOnceItIsAskedForAgainAndAnEqualOneAnew() {
        EncodedAnswers encoded = new EncodedAnswers(10, 1_000);
        Answer a = answer();
        encoded.body(a, false, bytes(10));
        assertEquals(0, encoded.size(), "an answer asked for once (computed for one request) keeps no body");
        byte[] second = encoded.body(a, false, bytes(10));
        assertSame(second, encoded.body(a, false, bytes(10)));
        assertEquals(2, encodings.get(), "asked for again: kept from then on");
        encoded.body(a, true, bytes(10));
        assertNotSame(second, encoded.body(a, true, bytes(10)), "CSV is another body");
        Answer equal = answer();
        assertEquals(a, equal);
        encoded.body(equal, false, bytes(10));
        assertEquals(5, encodings.get(), "an equal answer is another instance, perhaps of another moment: encoded anew");
    }

    @Test
    void bodiesAreBoundedInBytesOldestOutAndABodyOverAnEighthIsNotKept() {
        EncodedAnswers encoded = new EncodedAnswers(100, 1_000);
        List<Answer> answers = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            Answer a = answer();
            answers.add(a);
            encoded.body(a, false, bytes(125));
            encoded.body(a, false, bytes(125)); // an eighth each: eight fit
        }
        assertEquals(8, encoded.size());
        int before = encodings.get();
        encoded.body(answers.get(8), false, bytes(125));
        assertEquals(before, encodings.get(), "the newest is there");
        encoded.body(answers.get(0), false, bytes(125));
        assertEquals(before + 1, encodings.get(), "the oldest went to keep the bytes under the bound");

        Answer big = answer();
        for (int i = 0; i < 3; i++) {
            encoded.body(big, false, bytes(126));
        }
        assertEquals(before + 4, encodings.get(), "a body over an eighth of the bound is encoded per request");
    }

    @Test
    void bodiesAreBoundedInEntries() {
        EncodedAnswers encoded = new EncodedAnswers(3, 1_000_000);
        List<Answer> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Answer a = answer();
            answers.add(a); // held here, so the test does not depend on when they are collected
            encoded.body(a, false, bytes(1));
            encoded.body(a, false, bytes(1));
        }
        assertEquals(3, encoded.size());
    }
}
