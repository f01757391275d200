package dev.lambda.batch.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lambda.batch.store.GenerationWriter.Sent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class GenerationWriterTest {

    /** How many times each chunk was sent, and how many of its sends are to fail before one succeeds. */
    private final Map<String, Integer> sends = new HashMap<>();
    private final Map<String, Integer> failuresLeft = new HashMap<>();

    private Sent<String> send(String chunk) {
        sends.merge(chunk, 1, Integer::sum);
        int left = failuresLeft.getOrDefault(chunk, 0);
        if (left > 0) {
            failuresLeft.put(chunk, left - 1);
            return new Sent<>(chunk, CompletableFuture.failedFuture(new IllegalStateException("write timeout on " + chunk)));
        }
        return new Sent<>(chunk, CompletableFuture.completedFuture(null));
    }

    private List<Sent<String>> sendAll(String... chunks) {
        List<Sent<String>> sent = new ArrayList<>();
        for (String chunk : chunks) {
            sent.add(send(chunk));
        }
        return sent;
    }

    @Test
    void failedWritesAreSentAgainAloneUntilTheySucceed() throws InterruptedException {
        failuresLeft.put("b", 2);
        failuresLeft.put("c", 1);
        GenerationWriter.awaitResending(sendAll("a", "b", "c"), this::send, 4, Duration.ofMillis(1), "test");
        assertEquals(Map.of("a", 1, "b", 3, "c", 2), sends);
    }

    @Test
    void aWriteThatKeepsFailingFailsTheTaskWithItsErrorAfterTheLastAttempt() {
        failuresLeft.put("b", 4);
        CompletionException e = assertThrows(CompletionException.class,
                () -> GenerationWriter.awaitResending(sendAll("a", "b"), this::send, 4, Duration.ofMillis(1), "test"));
        assertEquals("write timeout on b", e.getCause().getMessage());
        assertEquals(Map.of("a", 1, "b", 4), sends);
    }
}
