package dev.lambda.speed.sink;

import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.SpeedRowsTable;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upserts speed rows into Cassandra's {@code speed_rows_by_slot}: rows of the same partition go together
 * as unlogged single-partition batches, asynchronously with a bounded number in flight; the call
 * waits for all of them. A chunk whose write failed is written again, with growing back-off, for up
 * to 10 s; then the rows of the chunks still failing are given back for a later flush (upserts of
 * absolute values make every retry harmless).
 */
public final class CassandraSpeedRowSink implements SpeedRowSink {

    private static final Logger LOG = LoggerFactory.getLogger(CassandraSpeedRowSink.class);
    /**
     * How long one flush waits for a Cassandra that is down before giving the rows back: far below
     * Kafka's {@code max.poll.interval.ms}, so the stream thread polls in between and keeps its
     * partitions (a thread that stops polling is dropped from the group, and could then write
     * older values after the partitions' new owner), and within the time a stop may take.
     */
    private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int CHUNK = 64;

    private final SpeedRowsTable table;
    private final int maxInFlight;
    private final SpeedPartitionsTable partitions;
    private final String applicationId;
    private final Duration slotWidth;
    /**
     * Down when a flush gave its rows back, up again with the next batch of rows that goes through.
     * Shared by every task of the process: while Cassandra is down, one write at a time tries it and
     * the other flushes give their rows back at once.
     */
    private final CassandraOutage outage = new CassandraOutage();

    private record Partition(ViewDefinition view, Granularity level, Instant period) {
    }

    private record Chunk(ViewDefinition view, List<Write> writes, long writeTime) {
    }

    private static List<Write> writesOf(List<Chunk> chunks) {
        return chunks.stream().flatMap(c -> c.writes().stream()).toList();
    }

    /** @param slotWidth the application's slot width, recorded with its progress (and its rows' TTL) for the batch's cutoff to match */
    public CassandraSpeedRowSink(SpeedRowsTable table, int maxInFlight, SpeedPartitionsTable partitions, String applicationId,
                                 Duration slotWidth) {
        this.table = table;
        this.maxInFlight = maxInFlight;
        this.partitions = partitions;
        this.applicationId = applicationId;
        this.slotWidth = slotWidth;
    }

    /** A write that is not rows (progress, a slot width, view versions): whether Cassandra took it. */
    private interface SmallWrite {
        boolean write() throws InterruptedException;
    }

    /**
     * Makes {@code write} at once while Cassandra is up; while it is down, only as the probe, so that
     * no flush waits on it meanwhile (a later flush tries again). One small write going through does
     * not say the rows' batches do: it leaves the store marked down, and lets the rows' probe that
     * follows in the same flush go at once.
     */
    private boolean smallWrite(SmallWrite write) throws InterruptedException {
        if (!outage.isDown()) {
            return write.write();
        }
        if (!outage.probeDue()) {
            return false;
        }
        boolean answered = false;
        try {
            answered = write.write();
            return answered;
        } finally {
            if (answered) {
                outage.probeAnswered();
            } else {
                outage.probeEnded();
            }
        }
    }

    @Override
    public boolean writeProgress(Progress p, long writeTime) throws InterruptedException {
        return smallWrite(() -> tryWriteProgress(p, writeTime));
    }

    private boolean tryWriteProgress(Progress p, long writeTime) throws InterruptedException {
        try {
            boolean rowsWritten = p.newestIngest() != null; // before the first record, no row has a width or a TTL
            partitions.write(new SpeedPartitionStatus(applicationId, p.partition(), p.nextOffset(), p.newestIngest(),
                    p.duplicatesDropped(), p.deadLetters(), Instant.now(), rowsWritten ? Map.of(slotWidth, p.newestIngest()) : Map.of(),
                    rowsWritten ? Set.of(table.ttl()) : Set.of(), Map.of()), writeTime).toCompletableFuture().get(10, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("progress of partition {} not recorded (next flush tries again): {}", p.partition(), e.toString());
            return false;
        }
    }

    /**
     * Written with the wall clock as its write time: each owner of a partition records its versions
     * as it starts and again every few seconds, so the latest owner's record stays, whatever an
     * owner that lost the partition still writes of its progress (which leaves the versions as they
     * are).
     */
    @Override
    public boolean recordViewVersions(int partition, Map<String, Instant> viewVersions) throws InterruptedException {
        return smallWrite(() -> tryRecordViewVersions(partition, viewVersions));
    }

    private boolean tryRecordViewVersions(int partition, Map<String, Instant> viewVersions) throws InterruptedException {
        try {
            partitions.recordViewVersions(applicationId, partition, viewVersions, System.currentTimeMillis() * 1_000)
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("view versions of partition {} not recorded (next flush tries again): {}", partition, e.toString());
            return false;
        }
    }

    @Override
    public boolean recordSlotWidth(int partition, Instant newestIngest, long writeTime) throws InterruptedException {
        return smallWrite(() -> writeSlotWidth(partition, newestIngest, writeTime, System.nanoTime() + PATIENCE_NANOS));
    }

    @Override
    public boolean tryRecordSlotWidth(int partition, Instant newestIngest, long writeTime, long deadlineNanos)
            throws InterruptedException {
        return writeSlotWidth(partition, newestIngest, writeTime, deadlineNanos);
    }

    private boolean writeSlotWidth(int partition, Instant newestIngest, long writeTime, long deadlineNanos) throws InterruptedException {
        long wait = Math.min(deadlineNanos - System.nanoTime(), PATIENCE_NANOS);
        if (wait <= 0) {
            return false;
        }
        try {
            partitions.addSlotWidths(applicationId, partition, Map.of(slotWidth, newestIngest), table.ttl(), writeTime)
                    .toCompletableFuture().get(wait, TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("slot width of partition {} not recorded: {}", partition, e.toString());
            outage.markDown();
            return false;
        }
    }

    @Override
    public long writeAll(List<Write> writes, long writeTime) throws InterruptedException, RowsNotWrittenException {
        if (writes.isEmpty()) {
            return 0; // nothing tried, so nothing learnt about Cassandra either
        }
        if (outage.isDown()) {
            return probe(chunks(writes, writeTime));
        }
        List<Chunk> pending = chunks(writes, writeTime);
        long backoff = CassandraOutage.FIRST_BACKOFF_MILLIS;
        long giveBackAt = System.nanoTime() + PATIENCE_NANOS;
        for (int attempt = 1; ; attempt++) {
            long began = System.nanoTime();
            List<Chunk> failed = writeOnce(pending, giveBackAt);
            if (failed.isEmpty()) {
                return System.nanoTime() - began;
            }
            long left = TimeUnit.NANOSECONDS.toMillis(giveBackAt - System.nanoTime());
            if (left <= backoff) { // no time left to write after the back-off
                outage.markDown();
                throw new RowsNotWrittenException(failed.size() + " of " + pending.size() + " speed-row batches still failing after "
                        + attempt + " attempts", writesOf(failed));
            }
            LOG.warn("{} of {} speed-row batches failed to write (attempt {}); retrying in {} ms",
                    failed.size(), pending.size(), attempt, backoff);
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, CassandraOutage.MAX_BACKOFF_MILLIS);
            pending = failed;
        }
    }

    /** While Cassandra is down: one write tries it when the back-off allows, the others give their rows back at once. */
    private long probe(List<Chunk> chunks) throws InterruptedException, RowsNotWrittenException {
        if (!outage.probeDue()) {
            throw new RowsNotWrittenException("Cassandra is down", writesOf(chunks));
        }
        try {
            long began = System.nanoTime();
            List<Chunk> failed = writeOnce(chunks, began + PATIENCE_NANOS);
            if (!failed.isEmpty()) {
                throw new RowsNotWrittenException("Cassandra is still down (" + failed.size() + " speed-row batches failed)",
                        writesOf(failed));
            }
            if (outage.markUp()) {
                LOG.info("speed rows are written again");
            }
            return System.nanoTime() - began;
        } finally {
            outage.probeEnded();
        }
    }

    @Override
    public boolean tryWriteAll(List<Write> writes, long writeTime, long deadlineNanos) throws InterruptedException {
        boolean written = writeOnce(chunks(writes, writeTime), deadlineNanos).isEmpty();
        // rows that went through say Cassandra is up: the progress written after them (while stopping) must not wait for a probe
        if (written && !writes.isEmpty() && outage.markUp()) {
            LOG.info("speed rows are written again");
        }
        return written;
    }

    /**
     * Rows of a partition in about the order Cassandra keeps them (slot, bucket, dims; text by UTF-16
     * rather than Cassandra's UTF-8 order, which differs only past the Basic Multilingual Plane): a
     * batch then changes a few neighbouring places of the partition's in-memory tree instead of rows
     * scattered all over it. Inserting into those trees was most of Cassandra's work in a profile.
     */
    private static int clusteringOrder(Write a, Write b) {
        SpeedRow x = a.row();
        SpeedRow y = b.row();
        int c = x.slot().compareTo(y.slot());
        if (c == 0) {
            c = x.bucket().compareTo(y.bucket());
        }
        return c != 0 ? c : compareDims(x.dims(), y.dims());
    }

    private static int compareDims(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static List<Chunk> chunks(List<Write> writes, long writeTime) {
        Map<Partition, List<Write>> byPartition = new LinkedHashMap<>();
        for (Write w : writes) {
            byPartition.computeIfAbsent(new Partition(w.view(), w.row().level(), w.row().period()), p -> new ArrayList<>()).add(w);
        }
        List<Chunk> chunks = new ArrayList<>();
        byPartition.forEach((p, rows) -> {
            rows.sort(CassandraSpeedRowSink::clusteringOrder);
            for (int i = 0; i < rows.size(); i += CHUNK) {
                chunks.add(new Chunk(p.view(), rows.subList(i, Math.min(rows.size(), i + CHUNK)), writeTime));
            }
        });
        return chunks;
    }

    /** Writes every chunk once; returns those that failed or were not written by the deadline ({@link System#nanoTime()}). */
    private List<Chunk> writeOnce(List<Chunk> chunks, long deadlineNanos) throws InterruptedException {
        Semaphore inFlight = new Semaphore(maxInFlight);
        List<CompletableFuture<Void>> futures = new ArrayList<>(chunks.size());
        for (Chunk chunk : chunks) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                break; // out of time: the chunks not sent count as failed
            }
            List<SpeedRow> rows = chunk.writes().stream().map(Write::row).toList();
            List<CompletionStage<Void>> batches = table.writePartition(chunk.view(), rows, chunk.writeTime());
            CompletableFuture<Void> all = CompletableFuture.allOf(batches.stream().map(CompletionStage::toCompletableFuture)
                    .toArray(CompletableFuture[]::new));
            futures.add(all.whenComplete((ok, error) -> inFlight.release()));
        }
        List<Chunk> failed = new ArrayList<>(chunks.subList(futures.size(), chunks.size()));
        Throwable firstError = null;
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                failed.add(chunks.get(i));
                firstError = firstError == null ? e.getCause() : firstError;
            } catch (TimeoutException e) {
                failed.add(chunks.get(i));
                firstError = firstError == null ? e : firstError;
            }
        }
        if (firstError != null) {
            LOG.warn("speed row write failed: {}", firstError.toString());
        }
        return failed;
    }
}
