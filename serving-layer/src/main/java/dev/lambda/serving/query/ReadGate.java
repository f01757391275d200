package dev.lambda.serving.query;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The reads of one query, started in the order given and at most {@code limit} at a time. Once
 * one failed, or the query's deadline passed, the reads not started yet are never started: they
 * fail with that reason. A query over years reads thousands of periods; sent at once, they filled
 * the driver's connections, and a query that had timed out went on loading Cassandra for the
 * queries after it.
 */
final class ReadGate {

    private record Pending<T>(Supplier<? extends CompletionStage<T>> read, CompletableFuture<T> result) {
    }

    private final int limit;
    private final long deadlineNanos;
    private final LongSupplier ticker;
    private final ArrayDeque<Pending<?>> queue = new ArrayDeque<>();
    private int inFlight;
    private Throwable failure;
    /** Calls of {@link #drain} not yet done: one thread drains, the others leave it another round. */
    private final AtomicInteger draining = new AtomicInteger();

    /** @param deadlineNanos on {@code ticker}'s clock ({@link System#nanoTime()} in production) */
    ReadGate(int limit, long deadlineNanos, LongSupplier ticker) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        this.limit = limit;
        this.deadlineNanos = deadlineNanos;
        this.ticker = ticker;
    }

    /** @return the read's result, once the gate started it and it completed */
    <T> CompletableFuture<T> submit(Supplier<? extends CompletionStage<T>> read) {
        CompletableFuture<T> result = new CompletableFuture<>();
        synchronized (this) {
            queue.add(new Pending<>(read, result));
        }
        drain();
        return result;
    }

    /**
     * Starts what may start, in a loop rather than by recursion: a read that completes at once
     * calls back into this method, which then only asks the running loop for another round.
     */
    private void drain() {
        if (draining.getAndIncrement() != 0) {
            return;
        }
        do {
            while (true) {
                Pending<?> next;
                Throwable stop;
                synchronized (this) {
                    if (queue.isEmpty()) {
                        break;
                    }
                    stop = failure != null ? failure
                            : ticker.getAsLong() - deadlineNanos >= 0 ? new TimeoutException("the query's deadline passed") : null;
                    if (stop == null && inFlight >= limit) {
                        break;
                    }
                    next = queue.poll();
                    if (stop == null) {
                        inFlight++;
                    }
                }
                if (stop != null) {
                    next.result().completeExceptionally(stop);
                } else {
                    start(next);
                }
            }
        } while (draining.decrementAndGet() != 0);
    }

    private <T> void start(Pending<T> p) {
        CompletionStage<T> stage;
        try {
            stage = Objects.requireNonNull(p.read().get(), "a read returned no stage");
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((value, error) -> {
            synchronized (this) {
                inFlight--;
                if (error != null && failure == null) {
                    failure = error;
                }
            }
            if (error != null) {
                p.result().completeExceptionally(error);
            } else {
                p.result().complete(value);
            }
            drain();
        });
    }
}
