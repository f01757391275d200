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
 * most of the serving layer's allocation (and with it most young collections). A body is kept from
 * an answer's second request on: an answer computed for one request (the answer cache off, or an
 * answer too large for it) is never asked for again, and its body would only push out those that
 * are. Bounded in entries and in bytes, oldest out; a body over an eighth of the bytes is not kept.
 * Answers are held weakly: a body never keeps an answer the answer cache has let go in memory. No
 * lock on the way to a body that is there.
 */
final class EncodedAnswers {

    /** An answer by identity (answers are records with deep equality; only the same instance may share bytes). */
    private abstract static class Key {
        private final int hash;
        private final boolean csv;

        Key(Answer answer, boolean csv) {
            this.hash = System.identityHashCode(answer) * 31 + (csv ? 1 : 0);
            this.csv = csv;
        }

        abstract Answer answer();

        @Override
        public final boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            Answer mine = answer();
            return o instanceof Key k && k.csv == csv && mine != null && k.answer() == mine;
        }

        @Override
        public final int hashCode() {
            return hash;
        }
    }

    /** The key a request looks up with: no allocation beyond itself. */
    private static final class Lookup extends Key {
        private final Answer answer;

        Lookup(Answer answer, boolean csv) {
            super(answer, csv);
            this.answer = answer;
        }

        @Override
        Answer answer() {
            return answer;
        }
    }

    /** The key kept in the map: its answer held weakly. */
    private static final class Held extends Key {
        private final WeakReference<Answer> answer;

        Held(Answer answer, boolean csv) {
            super(answer, csv);
            this.answer = new WeakReference<>(answer);
        }

        @Override
        Answer answer() {
            return answer.get();
        }
    }

    /** The value of an answer asked for once: its body is kept if it is asked for again. */
    private static final byte[] SEEN_ONCE = new byte[0];

    private final int maxEntries;
    private final long maxBytes;
    private final Map<Key, byte[]> bodies = new ConcurrentHashMap<>();
    /**
     * The keys of the map in the order they were added, the oldest out first when a bound is passed:
     * the very instances the map holds, which find their entries by identity once their answers are gone.
     */
    private final Queue<Held> added = new ConcurrentLinkedQueue<>();
    private final AtomicLong bytes = new AtomicLong();

    EncodedAnswers(int maxEntries, long maxBytes) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    byte[] body(Answer answer, boolean csv, Function<Answer, byte[]> encode) {
        Key lookup = new Lookup(answer, csv);
        byte[] cached = bodies.get(lookup); // no lock: every request comes here
        if (cached != null && cached != SEEN_ONCE) {
            return cached;
        }
        byte[] encoded = encode.apply(answer);
        if (cached == null) {
            Held held = new Held(answer, csv);
            if (bodies.putIfAbsent(held, SEEN_ONCE) == null) {
                added.add(held);
                evict();
            }
        } else if (encoded.length <= maxBytes / 8 && bodies.replace(lookup, SEEN_ONCE, encoded)) {
            bytes.addAndGet(encoded.length);
            evict();
        }
        return encoded;
    }

    private void evict() {
        while (bodies.size() > maxEntries || bytes.get() > maxBytes) {
            Held oldest = added.poll();
            if (oldest == null) {
                break;
            }
            byte[] removed = bodies.remove(oldest);
            if (removed != null) {
                bytes.addAndGet(-removed.length);
            }
        }
    }

    /** How many bodies are kept, answers seen once not counted (for tests). */
    int size() {
        return (int) bodies.values().stream().filter(b -> b != SEEN_ONCE).count();
    }
}
