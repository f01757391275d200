package dev.lambda.serving.http;

import dev.lambda.serving.query.Answer;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * The encoded bodies of recently served answers, by answer instance and format. A cached answer is
 * served as the same instance many times a second; encoding it once instead of per request removes
 * most of the serving layer's allocation (and with it most young collections). Bounded, oldest out;
 * no lock on the way to a body that is there.
 */
final class EncodedAnswers {

    /** An answer by identity (answers are records with deep equality; only the same instance may share bytes). */
    private record Key(Answer answer, boolean csv) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.answer == answer && k.csv == csv;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(answer) * 31 + (csv ? 1 : 0);
        }
    }

    private final int maxEntries;
    private final Map<Key, byte[]> bodies = new ConcurrentHashMap<>();
    /** Keys in the order they were added: the oldest goes first when the bound is passed. */
    private final Queue<Key> added = new ConcurrentLinkedQueue<>();

    EncodedAnswers(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    byte[] body(Answer answer, boolean csv, Function<Answer, byte[]> encode) {
        Key key = new Key(answer, csv);
        byte[] cached = bodies.get(key); // no lock: every request comes here
        if (cached != null) {
            return cached;
        }
        byte[] encoded = encode.apply(answer);
        if (bodies.putIfAbsent(key, encoded) == null) {
            added.add(key);
            while (bodies.size() > maxEntries) {
                Key oldest = added.poll();
                if (oldest == null) {
                    break;
                }
                bodies.remove(oldest);
            }
        }
        return encoded;
    }
}
