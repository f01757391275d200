package dev.lambda.serving.http;

import dev.lambda.serving.query.Answer;
import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The encoded bodies of recently served answers, by answer instance and format. A cached answer is
 * served as the same instance many times a second; encoding it once instead of per request removes
 * most of the serving layer's allocation (and with it most young collections). Bounded in entries and
 * in bytes, oldest out; a body over an eighth of the bytes is not kept. An answer is held weakly: a
 * body never keeps an answer the answer cache has let go (or never kept) in memory, and a body whose
 * answer is gone can never be served again, so it only waits to be pushed out. No lock on the way to
 * a body that is there.
 */
final class EncodedAnswers {

    /** An answer by identity (answers are records with deep equality; only the same instance may share bytes). */
    private static final class Key {
        private final WeakReference<Answer> answer;
        private final int hash;
        private final boolean csv;

        Key(Answer answer, boolean csv) {
            this.answer = new WeakReference<>(answer);
            this.hash = System.identityHashCode(answer) * 31 + (csv ? 1 : 0);
            this.csv = csv;
        }

        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            Answer mine = answer.get();
            return o instanceof Key k && k.csv == csv && mine != null && k.answer.get() == mine;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private record Kept(Key key, int bytes) {
    }

    private final int maxEntries;
    private final long maxBytes;
    private final Map<Key, byte[]> bodies = new ConcurrentHashMap<>();
    /** Keys in the order they were added: the oldest goes first when a bound is passed. */
    private final Queue<Kept> added = new ConcurrentLinkedQueue<>();
    private final AtomicLong bytes = new AtomicLong();

    EncodedAnswers(int maxEntries, long maxBytes) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    byte[] body(Answer answer, boolean csv, Function<Answer, byte[]> encode) {
        Key key = new Key(answer, csv);
        byte[] cached = bodies.get(key); // no lock: every request comes here
        if (cached != null) {
            return cached;
        }
        byte[] encoded = encode.apply(answer);
        if (encoded.length <= maxBytes / 8 && bodies.putIfAbsent(key, encoded) == null) {
            added.add(new Kept(key, encoded.length));
            bytes.addAndGet(encoded.length);
            while (bodies.size() > maxEntries || bytes.get() > maxBytes) {
                Kept oldest = added.poll();
                if (oldest == null) {
                    break;
                }
                bodies.remove(oldest.key());
                bytes.addAndGet(-oldest.bytes());
            }
        }
        return encoded;
    }

    /** How many bodies are kept (for tests). */
    int size() {
        return bodies.size();
    }
}
