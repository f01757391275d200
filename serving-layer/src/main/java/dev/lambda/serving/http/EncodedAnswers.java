package dev.lambda.serving.http;

import dev.lambda.serving.query.Answer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The encoded bodies of recently served answers, by answer instance and format. A cached answer is
 * served as the same instance many times a second; encoding it once instead of per request removes
 * most of the serving layer's allocation (and with it most young collections). Bounded, least recently
 * used out.
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
    private final Map<Key, byte[]> bodies = new LinkedHashMap<>(64, 0.75f, true);

    EncodedAnswers(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    byte[] body(Answer answer, boolean csv, Function<Answer, byte[]> encode) {
        Key key = new Key(answer, csv);
        synchronized (this) {
            byte[] cached = bodies.get(key);
            if (cached != null) {
                return cached;
            }
        }
        byte[] encoded = encode.apply(answer);
        synchronized (this) {
            bodies.put(key, encoded);
            var oldest = bodies.keySet().iterator();
            while (bodies.size() > maxEntries && oldest.hasNext()) {
                oldest.next();
                oldest.remove();
            }
        }
        return encoded;
    }
}
