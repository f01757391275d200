package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.ProtocolVersion;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.type.codec.TypeCodecs;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewDefinition;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Upserts and reads the speed layer's absolute aggregates ({@code speed_rows_by_slot}). Every write carries
 * the TTL, which bounds storage: readers take slots at or after the cutoff, so they rely on it only
 * while the published cutoff is younger than it (a recompute refuses an older one).
 * Every write also carries its write time (Cassandra's cell timestamp, microseconds): of two writes
 * of a row, the one with the later write time stays, whichever arrives last. The speed layer derives
 * it from its input position, so a process writing an older value late (one that lost its
 * partitions without knowing yet) cannot replace a newer one.
 */
public final class SpeedRowsTable {

    private static final String KEY = "view_name, version, level, period";
    private static final String VALUES = "bucket, dims, slot, source_partition, counts, decimals, sketches, latest_ingest";
    private static final String PARTITION = " WHERE view_name = ? AND version = ? AND level = ? AND period = ?";

    private final CqlSession session;
    private final int ttlSeconds;
    private final PreparedStatement upsert;
    private final PreparedStatement selectPartition;
    private final PreparedStatement selectFromSlot;
    private final PreparedStatement selectNewestSlot;
    private final PreparedStatement selectNewestIngest;
    private final Map<ViewDefinition, MetricColumns> metricColumns = new ConcurrentHashMap<>();

    public SpeedRowsTable(CqlSession session, String keyspace, Duration ttl) {
        if (ttl.toSeconds() < 1 || ttl.toSeconds() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("speed row TTL must be between 1 s and 68 years, got " + ttl);
        }
        this.session = session;
        this.ttlSeconds = (int) ttl.toSeconds();
        String table = keyspace + ".speed_rows_by_slot";
        this.upsert = session.prepare("INSERT INTO " + table + " (" + KEY + ", " + VALUES
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        this.selectPartition = session.prepare("SELECT level, " + VALUES + " FROM " + table + PARTITION);
        this.selectFromSlot = session.prepare("SELECT level, " + VALUES + " FROM " + table + PARTITION + " AND slot >= ?");
        this.selectNewestSlot = session.prepare("SELECT slot FROM " + table + PARTITION + " ORDER BY slot DESC LIMIT 1");
        this.selectNewestIngest = session.prepare("SELECT max(latest_ingest) FROM " + table + PARTITION + " AND slot > ?");
    }

    /** How long a written row lives. */
    public Duration ttl() {
        return Duration.ofSeconds(ttlSeconds);
    }

    /**
     * Upserts one row with the current time as its write time: for tests only. (The speed layer's
     * write times grow slower than the clock, so this row would outlast every later write of it.)
     */
    public CompletionStage<Void> write(ViewDefinition view, SpeedRow row) {
        return session.executeAsync(bind(new PartitionKey(view, row), row, columns(view).encode(row.aggregate()), nowMicros()))
                .thenApply(rs -> null);
    }

    /**
     * Upserts rows that all belong to one partition (same view, level and period) as unlogged
     * single-partition batches, all with {@code writeTime} (microseconds); one stage per batch.
     */
    public List<CompletionStage<Void>> writePartition(ViewDefinition view, List<SpeedRow> rows, long writeTime) {
        if (rows.isEmpty()) {
            return List.of();
        }
        SpeedRow first = rows.get(0);
        PartitionKey key = new PartitionKey(view, first);
        MetricColumns columns = columns(view);
        List<BoundStatement> statements = new ArrayList<>(rows.size());
        List<Integer> sizes = new ArrayList<>(rows.size());
        for (SpeedRow row : rows) {
            if (row.level() != first.level() || !row.period().equals(first.period())) {
                throw new IllegalArgumentException("rows of one partition expected: " + first.level().id() + " " + first.period()
                        + " and " + row.level().id() + " " + row.period());
            }
            MetricColumns.Encoded m = columns.encode(row.aggregate());
            statements.add(bind(key, row, m, writeTime));
            sizes.add(m.estimatedBytes());
        }
        List<CompletionStage<Void>> stages = new ArrayList<>();
        for (BatchStatement batch : PartitionBatches.of(statements, sizes)) {
            stages.add(session.executeAsync(batch).thenApply(rs -> null));
        }
        return stages;
    }

    /**
     * The upsert's bind markers in the order of its columns ({@link #KEY}, {@link #VALUES}), then TTL
     * and write time. Every value goes with its codec or as bytes: the driver's setters by Java type
     * look the codec up in its registry at every call.
     */
    private BoundStatement bind(PartitionKey key, SpeedRow row, MetricColumns.Encoded m, long writeTime) {
        return upsert.boundStatementBuilder()
                .setBytesUnsafe(0, key.view.duplicate()).setBytesUnsafe(1, key.version.duplicate())
                .setBytesUnsafe(2, key.level.duplicate()).setBytesUnsafe(3, key.period.duplicate())
                .set(4, row.bucket(), TypeCodecs.TIMESTAMP).set(5, row.dims(), CqlCodecs.TEXTS)
                .set(6, row.slot(), TypeCodecs.TIMESTAMP).set(7, row.sourcePartition(), TypeCodecs.INT)
                .setBytesUnsafe(8, m.counts()).setBytesUnsafe(9, m.decimals()).setBytesUnsafe(10, m.sketches())
                .set(11, row.latestIngest(), TypeCodecs.TIMESTAMP).set(12, ttlSeconds, TypeCodecs.INT)
                .set(13, writeTime, TypeCodecs.BIGINT).build();
    }

    private MetricColumns columns(ViewDefinition view) {
        return metricColumns.computeIfAbsent(view, MetricColumns::new);
    }

    /** The partition key's values, encoded once per call for all its rows. */
    private final class PartitionKey {
        final ByteBuffer view;
        final ByteBuffer version;
        final ByteBuffer level;
        final ByteBuffer period;

        PartitionKey(ViewDefinition definition, SpeedRow row) {
            ProtocolVersion protocol = session.getContext().getProtocolVersion();
            this.view = TypeCodecs.TEXT.encode(definition.name(), protocol);
            this.version = TypeCodecs.TEXT.encode(definition.version(), protocol);
            this.level = TypeCodecs.TEXT.encode(row.level().id(), protocol);
            this.period = TypeCodecs.TIMESTAMP.encode(row.period(), protocol);
        }
    }

    private static long nowMicros() {
        return WriteTimes.micros(Instant.now());
    }

    /**
     * The speed rows of one partition whose slot is at or after {@code fromSlot} (every slot if
     * {@code null}): one slice of the partition, since the slot leads its clustering, so the earlier
     * slots (kept until their TTL, and as tombstones for a while after) are never read.
     */
    public CompletionStage<List<SpeedRow>> read(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
        var read = fromSlot == null ? selectPartition.bind(view.name(), view.version(), level.id(), period)
                : selectFromSlot.bind(view.name(), view.version(), level.id(), period, fromSlot);
        return Pages.collect(session.executeAsync(read), row -> toRow(view, row));
    }

    /**
     * The newest ingest time among a partition's rows, or empty if it has none. Every row's ingest
     * times lie in its slot (from its start, within its width, at most a day), so the newest one is
     * in a slot less than a day before the newest slot, whatever widths the rows were written with:
     * Cassandra finds that slot from the end of the partition and takes the maximum over that last
     * day alone, so no row travels and the older slots, expired ones included, are not read.
     */
    public CompletionStage<Optional<Instant>> newestIngest(ViewDefinition view, Granularity level, Instant period) {
        return session.executeAsync(selectNewestSlot.bind(view.name(), view.version(), level.id(), period)).thenCompose(rs -> {
            Row newest = rs.one();
            if (newest == null) {
                return CompletableFuture.completedFuture(Optional.<Instant>empty());
            }
            Instant after = newest.getInstant(0).minus(IngestSlots.WIDEST);
            return session.executeAsync(selectNewestIngest.bind(view.name(), view.version(), level.id(), period, after))
                    .thenApply(max -> Optional.ofNullable(max.one()).map(row -> row.getInstant(0)));
        });
    }

    private static SpeedRow toRow(ViewDefinition view, Row row) {
        return new SpeedRow(Granularity.fromId(row.getString("level")), row.getInstant("bucket"), row.get("dims", CqlCodecs.TEXTS),
                row.getInstant("slot"), row.getInt("source_partition"), StoredMetrics.read(row).decode(view), row.getInstant("latest_ingest"));
    }
}
