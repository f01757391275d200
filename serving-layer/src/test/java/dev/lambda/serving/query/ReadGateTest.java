package dev.lambda.serving.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReadGateTest {

    private final AtomicLong clock = new AtomicLong();
    /** The reads the gate started, in the order it started them, each completed by the test. */
    private final List<CompletableFuture<Integer>> started = new ArrayList<>();
    private final List<Integer> startOrder = new ArrayList<>();

    private List<CompletableFuture<Integer>> submit(ReadGate gate, int n) {
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int read = i;
            results.add(gate.submit(() -> {
                CompletableFuture<Integer> f = new CompletableFuture<>();
                started.add(f);
                startOrder.add(read);
                return f;
            }));
        }
        return results;
    }

    @Test
    void startsAtMostTheLimitAtOnceInOrderAndTheRestAsReadsComplete() {
        ReadGate gate = new ReadGate(3, 1_000, clock::get);
        List<CompletableFuture<Integer>> results = submit(gate, 10);
        assertEquals(List.of(0, 1, 2), startOrder);
        started.get(1).complete(1);
        assertEquals(List.of(0, 1, 2, 3), startOrder, "one done, one more");
        assertEquals(1, results.get(1).join());
        for (int i = 0; i < started.size(); i++) { // completes each as it is started, the later ones too
            started.get(i).complete(startOrder.get(i));
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), startOrder);
        for (int i = 0; i < 10; i++) {
            assertEquals(i, results.get(i).join());
        }
    }

    @Test
    void afterAFailureTheReadsNotStartedAreNeverStartedAndFailWithIt() {
        ReadGate gate = new ReadGate(2, 1_000, clock::get);
        List<CompletableFuture<Integer>> results = submit(gate, 6);
        IllegalStateException down = new IllegalStateException("node down");
        started.get(0).completeExceptionally(down);
        assertEquals(List.of(0, 1), startOrder, "nothing more started");
        for (int i = 2; i < 6; i++) {
            CompletionException e = assertThrows(CompletionException.class, results.get(i)::join);
            assertEquals(down, e.getCause());
        }
        started.get(1).complete(1);
        assertEquals(1, results.get(1).join(), "a read in flight still lands");
    }

    @Test
    void afterTheDeadlineTheReadsNotStartedAreNeverStarted() {
        ReadGate gate = new ReadGate(1, 1_000, clock::get);
        List<CompletableFuture<Integer>> results = submit(gate, 3);
        clock.set(1_000);
        started.get(0).complete(0);
        assertEquals(List.of(0), startOrder);
        assertEquals(0, results.get(0).join());
        assertInstanceOf(TimeoutException.class, assertThrows(CompletionException.class, results.get(2)::join).getCause());
    }

    @Test
    void readsThatCompleteAtOnceDoNotNestOneCallPerRead() {
        ReadGate gate = new ReadGate(1, 1_000, clock::get);
        CompletableFuture<Integer> first = new CompletableFuture<>();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        results.add(gate.submit(() -> first));
        for (int i = 1; i < 200_000; i++) { // queued behind the first, each done as soon as it starts
            int read = i;
            results.add(gate.submit(() -> CompletableFuture.completedFuture(read)));
        }
        assertTrue(results.stream().noneMatch(CompletableFuture::isDone));
        first.complete(0); // starts the next, whose completion starts the next...: one loop, not 200,000 nested calls
        assertTrue(results.stream().allMatch(CompletableFuture::isDone));
        assertEquals(199_999, results.get(199_999).join());
    }
}
