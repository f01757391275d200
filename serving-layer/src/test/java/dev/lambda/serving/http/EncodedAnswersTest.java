package dev.lambda.serving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lambda.common.time.Granularity;
import dev.lambda.serving.query.Answer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Encoded bodies are shared by the same answer instance only, and their memory is bounded. */
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
    void theSameAnswerInstanceIsEncodedOnceAndAnEqualOneAgain() {
        EncodedAnswers encoded = new EncodedAnswers(10, 1_000);
        Answer a = answer();
        byte[] first = encoded.body(a, false, bytes(10));
        assertSame(first, encoded.body(a, false, bytes(10)));
        assertEquals(1, encodings.get());
        assertNotSame(first, encoded.body(a, true, bytes(10)), "CSV is another body");
        Answer equal = answer();
        assertEquals(a, equal);
        encoded.body(equal, false, bytes(10));
        assertEquals(3, encodings.get(), "an equal answer is another instance, perhaps of another moment: encoded anew");
    }

    @Test
    void bodiesAreBoundedInBytesOldestOutAndABodyOverAnEighthIsNotKept() {
        EncodedAnswers encoded = new EncodedAnswers(100, 1_000);
        List<Answer> answers = List.of(answer(), answer(), answer(), answer(), answer(), answer(), answer(), answer(), answer());
        for (Answer a : answers) {
            encoded.body(a, false, bytes(125)); // an eighth each: eight fit
        }
        assertEquals(8, encoded.size());
        int before = encodings.get();
        assertArrayEquals(new byte[125], encoded.body(answers.get(8), false, bytes(125)));
        assertEquals(before, encodings.get(), "the newest is there");
        encoded.body(answers.get(0), false, bytes(125));
        assertEquals(before + 1, encodings.get(), "the oldest went to keep the bytes under the bound");

        Answer big = answer();
        encoded.body(big, false, bytes(126));
        encoded.body(big, false, bytes(126));
        assertEquals(before + 3, encodings.get(), "a body over an eighth of the bound is encoded per request");
    }

    @Test
    void bodiesAreBoundedInEntries() {
        EncodedAnswers encoded = new EncodedAnswers(3, 1_000_000);
        for (int i = 0; i < 5; i++) {
            encoded.body(answer(), false, bytes(1));
        }
        assertEquals(3, encoded.size());
    }
}
