package dev.lambda.speed.sink;

import dev.lambda.common.cassandra.SpeedRowsTable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upserts speed rows into Cassandra's {@code speed_rows}: asynchronous writes with a bounded number
 * in flight, waiting for all of them; rows whose write failed are written again, with growing
 * back-off, until they succeed. Upserts of absolute values make the retries harmless.
 */
public final class CassandraSpeedRowSink implements SpeedRowSink {

    private static final Logger LOG = LoggerFactory.getLogger(CassandraSpeedRowSink.class);
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final SpeedRowsTable table;
    private final int maxInFlight;

    public CassandraSpeedRowSink(SpeedRowsTable table, int maxInFlight) {
        this.table = table;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public void writeAll(List<Write> rows) throws InterruptedException {
        List<Write> pending = rows;
        long backoff = 100;
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            List<Write> failed = writeOnce(pending);
            if (failed.isEmpty()) {
                return;
            }
            LOG.warn("{} of {} speed rows failed to write (attempt {}); retrying in {} ms", failed.size(), pending.size(), attempt, backoff);
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            pending = failed;
        }
    }

    private List<Write> writeOnce(List<Write> rows) throws InterruptedException {
        Semaphore inFlight = new Semaphore(maxInFlight);
        List<CompletableFuture<Void>> futures = new ArrayList<>(rows.size());
        for (Write w : rows) {
            inFlight.acquire();
            futures.add(table.write(w.view(), w.row()).toCompletableFuture().whenComplete((ok, error) -> inFlight.release()));
        }
        List<Write> failed = new ArrayList<>();
        Throwable firstError = null;
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).get();
            } catch (ExecutionException e) {
                failed.add(rows.get(i));
                firstError = firstError == null ? e.getCause() : firstError;
            }
        }
        if (firstError != null) {
            LOG.warn("speed row write failed: {}", firstError.toString());
        }
        return failed;
    }
}
