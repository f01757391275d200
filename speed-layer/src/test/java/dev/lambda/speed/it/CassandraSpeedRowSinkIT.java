package dev.lambda.speed.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.SpeedRowsTable;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.speed.sink.CassandraSpeedRowSink;
import dev.lambda.speed.sink.SpeedRowSink;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The speed layer's Cassandra sink on a real Cassandra: write times, progress, and the stop write's deadline. */
@ExtendWith(LocalClusterExtension.class)
class CassandraSpeedRowSinkIT {

    private static final String KEYSPACE = "speed_sink";
    private static final ViewDefinition SALES = SpeedFixture.VIEWS.find("sales").orElseThrow();
    private static final Instant SLOT = Instant.parse("2026-11-22T10:00:00Z");

    private CqlSession session;
    private CassandraSpeedRowSink sink;

    @BeforeEach
    void open(LocalCluster cluster) {
        session = CassandraSessions.openWithSchema(new CassandraSettings(List.of(cluster.cassandra().contactPoint()),
                cluster.cassandra().localDatacenter(), KEYSPACE, Replication.simple(1), null, null));
        session.execute("TRUNCATE " + KEYSPACE + ".speed_rows_by_slot");
        sink = new CassandraSpeedRowSink(new SpeedRowsTable(session, KEYSPACE, Duration.ofDays(1)), 4,
                new SpeedPartitionsTable(session, KEYSPACE), "sink-it", Duration.ofHours(1));
    }

    @AfterEach
    void close() {
        session.close();
    }

    /** {@code n} rows of one partition (minutes of one hour), each the aggregate of {@code orders} purchases. */
    private static List<SpeedRowSink.Write> rows(int n, int orders) {
        List<SpeedRowSink.Write> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Instant minute = SLOT.plusSeconds(60L * (i % 60));
            Aggregate a = Aggregate.zero(SALES);
            for (int o = 0; o < orders; o++) {
                a = a.add(SALES, new Event("e" + i + "-" + o, "purchase", minute, Map.of("amount", "1.00", "user_id", "u" + o)));
            }
            writes.add(new SpeedRowSink.Write(SALES, new SpeedRow(Granularity.MINUTE, minute, List.of("p" + i, "NP"), SLOT, 0, a,
                    SLOT.plusSeconds(1))));
        }
        return writes;
    }

    private long rowCount() {
        return session.execute("SELECT count(*) FROM " + KEYSPACE + ".speed_rows_by_slot").one().getLong(0);
    }

    private long totalOrders() {
        long total = 0;
        for (var row : session.execute("SELECT counts FROM " + KEYSPACE + ".speed_rows_by_slot")) {
            total += row.getMap("counts", String.class, Long.class).getOrDefault("orders", 0L);
        }
        return total;
    }

    @Test
    void everyRowCarriesTheWriteTimeItWasGivenAndAnOlderOneChangesNothing() throws Exception {
        long writeTime = SLOT.toEpochMilli() * 1_000 + 2 * 5_000;
        sink.writeAll(rows(200, 2), writeTime);
        assertEquals(200, rowCount());
        for (var row : session.execute("SELECT WRITETIME(latest_ingest) FROM " + KEYSPACE + ".speed_rows_by_slot")) {
            assertEquals(writeTime, row.getLong(0));
        }
        sink.writeAll(rows(200, 1), writeTime - 2 * 100); // an owner 100 records behind, writing last
        assertEquals(400, totalOrders(), "the later write time's values stay");
    }

    /** What a batch reads to choose a cutoff the speed rows can take over from, and which view versions it may publish at it. */
    @Test
    void progressRecordsTheApplicationsSlotWidthRowTtlAndViewVersions() throws Exception {
        Instant ingest = SLOT.plusSeconds(42);
        Map<String, Instant> versions = Map.of("sales/77428ece1e92", SLOT.plusSeconds(7), "pageviews/0a1b2c3d4e5f", Instant.EPOCH);
        assertTrue(sink.recordViewVersions(3, versions));
        assertTrue(sink.writeProgress(new SpeedRowSink.Progress(3, 120, ingest, 2, Map.of("malformed_json", 1L)),
                (System.currentTimeMillis() + 60_000) * 1_000), "a later progress write leaves the versions as they are");
        SpeedPartitionStatus status = new SpeedPartitionsTable(session, KEYSPACE).readAll().toCompletableFuture().join().stream()
                .filter(s -> s.applicationId().equals("sink-it") && s.partition() == 3).findFirst().orElseThrow();
        assertEquals(List.of(120L, ingest, Map.of(Duration.ofHours(1), ingest), Set.of(Duration.ofDays(1)), versions),
                List.of(status.nextOffset(), status.newestIngest(), status.slotWidths(), status.rowsTtls(), status.viewVersions()));
    }

    /** Before a task's first rows: the width alone, readable as a partition with no progress yet. */
    @Test
    void aSlotWidthRecordedBeforeTheFirstRowsIsReadBeforeAnyProgress() throws Exception {
        Instant ingest = SLOT.plusSeconds(7);
        assertTrue(sink.recordSlotWidth(4, ingest, SLOT.toEpochMilli() * 1_000));
        SpeedPartitionStatus status = new SpeedPartitionsTable(session, KEYSPACE).readAll().toCompletableFuture().join().stream()
                .filter(s -> s.applicationId().equals("sink-it") && s.partition() == 4).findFirst().orElseThrow();
        assertEquals(Arrays.asList(0L, null, Map.of(Duration.ofHours(1), ingest), Set.of(Duration.ofDays(1))),
                Arrays.asList(status.nextOffset(), status.newestIngest(), status.slotWidths(), status.rowsTtls()));
    }

    @Test
    void aRowIsStoredAsItWasWhenHandedOverThoughItsSketchesChangeRightAfter() throws Exception {
        // the contract the layer's flush relies on: the sink encodes a row's sketches within its call
        // (its retries too), so what lands is the value handed over, whatever the sketches become next
        List<SpeedRowSink.Write> writes = rows(300, 2); // each row with sketches of its own
        sink.writeAll(writes, SLOT.toEpochMilli() * 1_000);
        int buyers = SALES.metricIndex("buyers");
        for (SpeedRowSink.Write w : writes) { // the layer goes on counting into the sketches it lent
            ((MetricValue.Distinct) w.row().aggregate().get(buyers)).sketch().update("a third buyer");
        }
        int rows = 0;
        for (var row : session.execute("SELECT sketches FROM " + KEYSPACE + ".speed_rows_by_slot")) {
            ByteBuffer stored = row.getMap("sketches", String.class, ByteBuffer.class).get("buyers");
            byte[] sketch = new byte[stored.remaining()];
            stored.get(sketch);
            assertEquals(2.0, MetricValue.Distinct.fromBytes(sketch).sketch().getEstimate(), 0.5);
            rows++;
        }
        assertEquals(300, rows);
    }

    @Test
    void aStopWriteWhoseDeadlineHasPassedWritesNothingAndSaysSo() throws Exception {
        assertFalse(sink.tryWriteAll(rows(500, 1), SLOT.toEpochMilli() * 1_000, System.nanoTime() - 1));
        assertEquals(0, rowCount());
        assertTrue(sink.tryWriteAll(rows(500, 1), SLOT.toEpochMilli() * 1_000, System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
        assertEquals(500, rowCount());
    }
}
