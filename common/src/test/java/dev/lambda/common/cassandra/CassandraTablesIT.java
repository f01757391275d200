package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The schema applied to a real Cassandra, and rows of every table round-tripped through the codecs. */
@ExtendWith(LocalClusterExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CassandraTablesIT {

    private static final String KEYSPACE = "tables_it";
    private final ViewDefinition sales = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales").orElseThrow();
    private CqlSession session;

    @BeforeAll
    void connect(LocalCluster cluster) {
        var settings = new CassandraSettings(List.of(cluster.cassandra().contactPoint()), cluster.cassandra().localDatacenter(),
                KEYSPACE, Replication.simple(1), null, null);
        session = CassandraSessions.openWithSchema(settings);
        // applying it again (every process does at start) changes nothing and does not fail
        new CassandraSchema(KEYSPACE, Replication.simple(1)).apply(session);
    }

    @AfterAll
    void close() {
        session.close();
    }

    @Test
    void aKeyspaceOfAnEarlierReleaseGetsTheColumnsAddedSince() {
        String keyspace = "tables_it_upgrade";
        session.execute("CREATE KEYSPACE " + keyspace + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        session.execute("CREATE TABLE " + keyspace + ".view_state (view_name text, version text, generation bigint, cutoff timestamp,"
                + " built_at timestamp, published_at timestamp, events_in bigint, duplicates_dropped bigint, rows_written bigint,"
                + " duration_ms bigint, previous_generation bigint, PRIMARY KEY ((view_name), version))");
        session.execute("INSERT INTO " + keyspace + ".view_state (view_name, version, generation, cutoff, built_at, published_at, events_in,"
                + " duplicates_dropped, rows_written, duration_ms) VALUES ('sales', 'v1', 7, 0, 0, 0, 1, 0, 1, 1)");

        new CassandraSchema(keyspace, Replication.simple(1)).apply(session);
        new CassandraSchema(keyspace, Replication.simple(1)).apply(session); // and again, as every process does at start

        ViewStateTable table = new ViewStateTable(session, keyspace);
        ViewState old = table.find("sales", "v1").toCompletableFuture().join().orElseThrow();
        assertEquals(7, old.generation(), "the row is kept");
        assertEquals(null, old.versionSince(), "unknown for a row of the earlier release");
        ViewState next = new ViewState("sales", "v1", 8, old.cutoff(), old.builtAt(), old.publishedAt(), 1, 0, 1, 1, 7L, old.publishedAt());
        assertTrue(table.publish(next, old, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertEquals(Optional.of(next), table.find("sales", "v1").toCompletableFuture().join());
    }

    @Test
    void viewStatePublishesAndReadsBack() {
        ViewStateTable table = new ViewStateTable(session, KEYSPACE);
        Instant now = Instant.parse("2026-11-21T12:00:00.123Z");
        ViewState first = new ViewState("sales", sales.version(), 100, Instant.parse("2026-11-21T11:00:00Z"), now, now.plusSeconds(1),
                5_000, 12, 340, 4_321, null, null);
        assertTrue(table.publish(first, null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertEquals(Optional.of(first), table.find("sales", sales.version()).toCompletableFuture().join());

        ViewState second = new ViewState("sales", sales.version(), 200, Instant.parse("2026-11-21T12:00:00Z"), now, now.plusSeconds(2),
                6_000, 13, 350, 4_000, 100L, now.plusSeconds(1));
        assertTrue(table.publish(second, first, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertEquals(Optional.of(second), table.find("sales", sales.version()).toCompletableFuture().join());
        assertEquals(List.of(second), table.findAll("sales", DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());

        ViewState otherVersion = new ViewState("sales", "000000000000", 1, first.cutoff(), now, now, 1, 0, 1, 1, null, null);
        assertTrue(table.publish(otherVersion, null, DefaultConsistencyLevel.QUORUM).toCompletableFuture().join());
        assertEquals(2, table.findAll("sales", DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join().size());
        ViewState republished = new ViewState("sales", "000000000000", 1, first.cutoff(), now, now.plusSeconds(5), 1, 0, 1, 1, null, null);
        assertTrue(table.publish(republished, otherVersion, DefaultConsistencyLevel.QUORUM).toCompletableFuture().join(),
                "the same generation again");
        Instant retiredAt = now.plusSeconds(60);
        assertFalse(table.retire(otherVersion, sales.version(), retiredAt, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture()
                .join(), "published again since read");
        assertEquals(List.of(second, republished), table.findAll("sales", DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join()
                .stream().sorted(Comparator.comparing(ViewState::version).reversed()).toList());
        assertTrue(table.retire(republished, sales.version(), retiredAt, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        ViewState retired = table.find("sales", "000000000000").toCompletableFuture().join().orElseThrow();
        assertEquals(republished.retiredBy(sales.version(), retiredAt), retired, "kept, marked retired");
        assertTrue(retired.retired());
        assertFalse(table.retire(republished, sales.version(), retiredAt.plusSeconds(1), DefaultConsistencyLevel.LOCAL_QUORUM)
                .toCompletableFuture().join(), "retired once");
        assertEquals(Optional.of(second), table.find("sales", sales.version()).toCompletableFuture().join(), "the current version as it was");
        assertEquals(Optional.empty(), table.find("nope", "x").toCompletableFuture().join());
    }

    /** Two recomputes that read the same state: the first to publish wins, the other learns it lost. */
    @Test
    void aPublishOverAStateThatChangedSinceItWasReadIsRefused() {
        ViewStateTable table = new ViewStateTable(session, KEYSPACE);
        Instant t = Instant.parse("2026-11-21T11:00:00Z");
        ViewState first = new ViewState("activity", "v1", 10, t, t, t, 1, 0, 1, 1, null, t);
        ViewState rival = new ViewState("activity", "v1", 11, t.plusSeconds(3600), t, t, 2, 0, 1, 1, null, t);
        assertTrue(table.publish(first, null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertFalse(table.publish(rival, null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(),
                "both read no state: the second is refused");
        assertEquals(Optional.of(first), table.find("activity", "v1").toCompletableFuture().join());

        ViewState next = new ViewState("activity", "v1", 12, t.plusSeconds(7200), t, t, 3, 0, 1, 1, 10L, t);
        assertTrue(table.publish(next, first, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertFalse(table.publish(new ViewState("activity", "v1", 11, t.plusSeconds(3600), t, t, 2, 0, 1, 1, 10L, t), first,
                DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(), "read 10, but 12 was published since");
        assertEquals(Optional.of(next), table.find("activity", "v1").toCompletableFuture().join());
        ViewState absent = new ViewState("activity", "v2", 12, t, t, t, 1, 0, 1, 1, null, t);
        assertFalse(table.publish(new ViewState("activity", "v2", 13, t, t, t, 1, 0, 1, 1, null, t), absent,
                DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(), "a replacement where there is no state");
        assertEquals(Optional.empty(), table.find("activity", "v2").toCompletableFuture().join(), "not created by it");
    }

    /**
     * A run that read a version's state before another run's cleanup retired it must not publish
     * over the retirement (the cleanup drops that version's generations, this run's included); a
     * run that read it retired may (a rolled-back change), and the version is current again.
     */
    @Test
    void aPublishOverARetiredStateOnlyIfItWasReadRetired() {
        ViewStateTable table = new ViewStateTable(session, KEYSPACE);
        Instant t = Instant.parse("2026-11-24T09:00:00Z");
        ViewState live = new ViewState("pageviews", "old1", 20, t, t, t, 1, 0, 1, 1, null, t);
        assertTrue(table.publish(live, null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertTrue(table.retire(live, "new1", t.plusSeconds(7200), DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        ViewState retired = table.find("pageviews", "old1").toCompletableFuture().join().orElseThrow();

        ViewState stale = new ViewState("pageviews", "old1", 21, t.plusSeconds(3600), t, t, 2, 0, 1, 1, 20L, t);
        assertFalse(table.publish(stale, live, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(),
                "read before the retirement: refused, though the generation is the same");
        assertFalse(table.publish(stale, null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(),
                "read as absent: refused, the row is there");
        assertEquals(Optional.of(retired), table.find("pageviews", "old1").toCompletableFuture().join());

        ViewState otherRetirement = retired.retiredBy("new1", t.plusSeconds(1));
        ViewState rolledBack = new ViewState("pageviews", "old1", 20, t, t, t.plusSeconds(10_900), 3, 0, 1, 1, null,
                t.plusSeconds(10_900));
        assertFalse(table.publish(rolledBack, otherRetirement, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(),
                "read another retirement");
        assertTrue(table.publish(rolledBack, retired, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join());
        assertEquals(Optional.of(rolledBack), table.find("pageviews", "old1").toCompletableFuture().join(), "current again");

        assertFalse(table.publish(stale, live, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(),
                "read before the retirement and the roll-back: refused, though the generation is the same and not retired");
        assertEquals(Optional.of(rolledBack), table.find("pageviews", "old1").toCompletableFuture().join());
    }

    @Test
    void batchRowsRoundTripAcrossPagesAndPartitionDeletesDropThem() throws InterruptedException {
        BatchRowsTable table = new BatchRowsTable(session, KEYSPACE);
        Instant period = Instant.parse("2026-11-21T10:00:00Z");
        List<BatchRow> written = new ArrayList<>();
        for (int minute = 0; minute < 60; minute++) {
            for (int product = 0; product < 90; product++) { // 5,400 rows: more than one page of 5,000
                Instant bucket = period.plus(Duration.ofMinutes(minute));
                Aggregate a = Aggregate.of(sales, purchase("e" + minute + "-" + product, bucket, minute + "." + product, "u" + product));
                written.add(new BatchRow(7, Granularity.MINUTE, bucket, List.of("p" + product, product % 2 == 0 ? "NP" : ""), a));
            }
        }
        writeAll(written, row -> table.write(sales, row));
        // a row of another generation in the same period must not be read with this one
        table.write(sales, new BatchRow(8, Granularity.MINUTE, period, List.of("p0", "NP"), Aggregate.zero(sales))).toCompletableFuture().join();

        List<BatchRow> read = table.read(sales, 7, Granularity.MINUTE, period).toCompletableFuture().join();
        assertEquals(written.size(), read.size());
        Comparator<BatchRow> order = Comparator.comparing(BatchRow::bucket).thenComparing(r -> String.join("|", r.dims()));
        List<BatchRow> expected = written.stream().sorted(order).toList();
        List<BatchRow> actual = read.stream().sorted(order).toList();
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(readable(expected.get(i)), readable(actual.get(i)));
        }

        Instant deletedAsOf = Instant.now();
        Thread.sleep(5);
        // a run writing a generation of the same id after the delete's time: its rows stay
        BatchRow rewritten = written.get(0);
        table.write(sales, rewritten).toCompletableFuture().join();
        table.deletePartition("sales", sales.version(), 7, Granularity.MINUTE, period, deletedAsOf).toCompletableFuture().join();
        List<BatchRow> left = table.read(sales, 7, Granularity.MINUTE, period).toCompletableFuture().join();
        assertEquals(1, left.size(), "only the row written after the delete's time");
        assertEquals(readable(rewritten), readable(left.get(0)));
        assertEquals(1, table.read(sales, 8, Granularity.MINUTE, period).toCompletableFuture().join().size());
        table.deletePartition("sales", sales.version(), 7, Granularity.MINUTE, period, Instant.now()).toCompletableFuture().join();
        assertEquals(List.of(), table.read(sales, 7, Granularity.MINUTE, period).toCompletableFuture().join());
    }

    @Test
    void aGenerationRecordedAgainAfterAForgetsTimeStays() throws InterruptedException {
        BatchGenerationsTable table = new BatchGenerationsTable(session, KEYSPACE);
        ConsistencyLevel quorum = DefaultConsistencyLevel.LOCAL_QUORUM;
        Instant cutoff = Instant.parse("2026-11-21T10:00:00Z");
        BatchGeneration first = new BatchGeneration("sales", sales.version(), 11, cutoff, Set.of(BatchGeneration.partition(Granularity.MINUTE, cutoff)),
                Instant.now().truncatedTo(ChronoUnit.MILLIS));
        table.record(first, quorum).toCompletableFuture().join();
        Instant forgottenAsOf = Instant.now();
        Thread.sleep(5);
        BatchGeneration again = new BatchGeneration("sales", sales.version(), 11, cutoff, first.partitions(),
                Instant.now().truncatedTo(ChronoUnit.MILLIS));
        table.record(again, quorum).toCompletableFuture().join();
        table.forget("sales", sales.version(), 11, forgottenAsOf, quorum).toCompletableFuture().join();
        assertEquals(List.of(again), table.list("sales", sales.version()).toCompletableFuture().join());
        table.forget("sales", sales.version(), 11, Instant.now(), quorum).toCompletableFuture().join();
        assertEquals(List.of(), table.list("sales", sales.version()).toCompletableFuture().join());
    }

    @Test
    void speedRowsUpsertAbsoluteValuesWithATtl() {
        SpeedRowsTable table = new SpeedRowsTable(session, KEYSPACE, Duration.ofDays(7));
        Instant bucket = Instant.parse("2026-11-21T00:00:00Z");
        Instant slot = Instant.parse("2026-11-21T10:00:00Z");
        Aggregate one = Aggregate.of(sales, purchase("a", bucket, "3.50", "u1"));
        Aggregate two = one.plus(Aggregate.of(sales, purchase("b", bucket, "1.25", "u2")));
        table.write(sales, new SpeedRow(Granularity.DAY, bucket, List.of("p1", "NP"), slot, 2, one, slot.plusSeconds(5)))
                .toCompletableFuture().join();
        SpeedRow latest = new SpeedRow(Granularity.DAY, bucket, List.of("p1", "NP"), slot, 2, two, slot.plusSeconds(9));
        table.write(sales, latest).toCompletableFuture().join();
        table.write(sales, latest).toCompletableFuture().join(); // a replay rewrites, never adds
        SpeedRow otherPartition = new SpeedRow(Granularity.DAY, bucket, List.of("p1", "NP"), slot, 0, one, slot.plusSeconds(1));
        table.write(sales, otherPartition).toCompletableFuture().join();

        List<SpeedRow> read = table.read(sales, Granularity.DAY, Granularity.DAY.periodOf(bucket), null).toCompletableFuture().join();
        assertEquals(List.of(readable(otherPartition), readable(latest)), read.stream().map(CassandraTablesIT::readable).toList());
        assertEquals(2L, read.get(1).aggregate().get(0).read());
        assertEquals(new java.math.BigDecimal("4.75"), read.get(1).aggregate().get(1).read());

        Instant earlierSlot = slot.minus(Duration.ofHours(1));
        SpeedRow beforeCutoff = new SpeedRow(Granularity.DAY, bucket, List.of("p2", "NP"), earlierSlot, 2, one, earlierSlot.plusSeconds(1));
        table.write(sales, beforeCutoff).toCompletableFuture().join();
        assertEquals(List.of(readable(otherPartition), readable(latest)), table.read(sales, Granularity.DAY, Granularity.DAY.periodOf(bucket), slot)
                .toCompletableFuture().join().stream().map(CassandraTablesIT::readable).toList(), "from the slot on: the earlier slot is left out");
        assertEquals(3, table.read(sales, Granularity.DAY, Granularity.DAY.periodOf(bucket), null).toCompletableFuture().join().size());

        int ttl = session.execute("SELECT TTL(latest_ingest) FROM " + KEYSPACE + ".speed_rows_by_slot WHERE view_name = 'sales' AND version = ? "
                + "AND level = 'day' AND period = ?", sales.version(), Granularity.DAY.periodOf(bucket)).one().getInt(0);
        assertTrue(ttl > Duration.ofDays(7).toSeconds() - 60 && ttl <= Duration.ofDays(7).toSeconds(), "ttl " + ttl);
    }

    /**
     * What keeps the merge's reads cheap as speed rows age: a read from the cutoff, and the newest
     * ingest, are slices that never touch the slots before them, expired ones included. Cassandra's
     * own count of the tombstones each read went through (system_views.tombstones_per_read) shows it;
     * a read of the whole partition goes through them all.
     */
    @Test
    void aSpeedReadFromTheCutoffNeverGoesThroughTheExpiredSlotsBeforeIt() throws InterruptedException {
        String keyspace = "tables_it_slices";
        CassandraSchema schema = new CassandraSchema(keyspace, Replication.simple(1));
        schema.apply(session);
        Instant bucket = Instant.parse("2026-11-01T00:00:00Z");
        Instant cutoff = Instant.parse("2026-11-20T00:00:00Z");
        Aggregate one = Aggregate.of(sales, purchase("a", bucket, "3.50", "u1"));
        SpeedRowsTable shortLived = new SpeedRowsTable(session, keyspace, Duration.ofSeconds(1));
        List<SpeedRow> expired = new ArrayList<>();
        for (int hour = 1; hour <= 300; hour++) { // more than a day old, as with the default TTL of 7 days
            Instant slot = cutoff.minus(Duration.ofHours(24 + hour));
            expired.add(new SpeedRow(Granularity.DAY, bucket, List.of("p" + hour, "NP"), slot, 0, one, slot.plusSeconds(1)));
        }
        writeAll(expired, row -> shortLived.write(sales, row));
        Thread.sleep(2_100); // every one of them has expired
        SpeedRowsTable table = new SpeedRowsTable(session, keyspace, Duration.ofDays(7));
        SpeedRow atCutoff = new SpeedRow(Granularity.DAY, bucket, List.of("p1", "NP"), cutoff, 0, one, cutoff.plusSeconds(3));
        SpeedRow later = new SpeedRow(Granularity.DAY, bucket, List.of("p2", "NP"), cutoff.plusSeconds(3_600), 1, one,
                cutoff.plusSeconds(3_700));
        // the newest ingest is not the newest slot's last row
        SpeedRow laterSibling = new SpeedRow(Granularity.DAY, bucket, List.of("p3", "NP"), later.slot(), 1, one, cutoff.plusSeconds(3_650));
        writeAll(List.of(atCutoff, later, laterSibling), row -> table.write(sales, row));
        Instant period = Granularity.DAY.periodOf(bucket);

        assertEquals(List.of(readable(atCutoff), readable(later), readable(laterSibling)), table.read(sales, Granularity.DAY, period, cutoff)
                .toCompletableFuture().join().stream().map(CassandraTablesIT::readable).toList());
        assertEquals(Optional.of(later.latestIngest()), table.newestIngest(sales, Granularity.DAY, period).toCompletableFuture().join());
        List<Long> sliced = tombstonesPerRead(keyspace);
        // (the histogram's first bucket holds 0 and 1 alike)
        assertTrue(sliced.get(0) >= 3 && sliced.get(1) <= 1, "reads and the most tombstones one went through: " + sliced);

        assertEquals(3, table.read(sales, Granularity.DAY, period, null).toCompletableFuture().join().size());
        List<Long> whole = tombstonesPerRead(keyspace);
        assertTrue(whole.get(1) >= expired.size(), "the whole partition's read goes through the expired rows: " + whole);
    }

    /** How many reads of the keyspace's speed rows Cassandra counted, and the most tombstones one of them went through. */
    private List<Long> tombstonesPerRead(String keyspace) {
        var row = session.execute("SELECT count, max FROM system_views.tombstones_per_read WHERE keyspace_name = ?"
                + " AND table_name = 'speed_rows_by_slot'", keyspace).one();
        return List.of(row.getLong("count"), (long) row.getDouble("max"));
    }

    /**
     * A keyspace of an earlier release had {@code speed_rows}, clustered by bucket first: the layers
     * refuse to start on it, naming the one-shot that moves its rows to {@code speed_rows_by_slot},
     * each with the time it has left and its write time (a row written again since keeps its newer
     * value), and drops it.
     */
    @Test
    void aKeyspaceOfAnEarlierReleaseHasItsSpeedRowsMovedToTheTableClusteredBySlot() {
        String keyspace = "tables_it_speed_move";
        session.execute("CREATE KEYSPACE " + keyspace + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        String metrics = "counts frozen<map<text, bigint>>, decimals frozen<map<text, decimal>>, sketches frozen<map<text, blob>>, ";
        String key = "view_name text, version text, level text, period timestamp, bucket timestamp, dims frozen<list<text>>, slot timestamp,"
                + " source_partition int, ";
        session.execute("CREATE TABLE " + keyspace + ".speed_rows (" + key + metrics + "latest_ingest timestamp,"
                + " PRIMARY KEY ((view_name, version, level, period), bucket, dims, slot, source_partition))");
        // what the speed layer of this release wrote already, with a later write time than the old table's value
        session.execute("CREATE TABLE " + keyspace + ".speed_rows_by_slot (" + key + metrics + "latest_ingest timestamp,"
                + " PRIMARY KEY ((view_name, version, level, period), slot, bucket, dims, source_partition))");
        String insert = "INSERT INTO %s.%s (view_name, version, level, period, bucket, dims, slot, source_partition, counts, decimals,"
                + " sketches, latest_ingest) VALUES ('sales', 'v1', 'day', '2026-11-01', '2026-11-20', ['%s', 'NP'], '%s', 0, {'orders': %d},"
                + " {'revenue': %s}, {}, '%s') USING TTL %d AND TIMESTAMP %d";
        session.execute(insert.formatted(keyspace, "speed_rows", "p1", "2026-11-20T10:00:00Z", 3, "7.25", "2026-11-20T10:00:05Z", 86_400, 500));
        session.execute(insert.formatted(keyspace, "speed_rows", "p2", "2026-11-20T09:00:00Z", 1, "1.00", "2026-11-20T09:00:01Z", 3_600, 400));
        session.execute(insert.formatted(keyspace, "speed_rows", "p3", "2026-11-20T11:00:00Z", 2, "2.00", "2026-11-20T11:00:09Z", 86_400, 600));
        session.execute(insert.formatted(keyspace, "speed_rows_by_slot", "p3", "2026-11-20T11:00:00Z", 5, "9.00", "2026-11-20T11:00:30Z",
                86_400, 700));

        CassandraSchema schema = new CassandraSchema(keyspace, Replication.simple(1));
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> schema.apply(session), "a layer's start");
        assertTrue(refused.getMessage().contains("keyspace " + keyspace + " still has the table speed_rows")
                && refused.getMessage().contains("run ./lambda schema"), refused.getMessage());

        assertEquals(3, schema.upgrade(session), "rows moved");
        assertEquals(0, schema.upgrade(session), "and none the next time");
        schema.apply(session);

        assertEquals(null, session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'speed_rows'",
                keyspace).one(), "the old table is dropped");
        List<List<Object>> moved = new ArrayList<>();
        for (var row : session.execute("SELECT dims, slot, counts, decimals, latest_ingest, WRITETIME(latest_ingest), TTL(latest_ingest)"
                + " FROM " + keyspace + ".speed_rows_by_slot")) {
            int ttl = row.getInt(6);
            moved.add(List.of(row.getList(0, String.class).get(0), row.getInstant(1).toString(), row.getMap(2, String.class, Long.class),
                    row.getMap(3, String.class, java.math.BigDecimal.class).toString(), row.getInstant(4).toString(), row.getLong(5),
                    ttl > 86_400 - 120 ? "a day" : ttl > 3_600 - 120 && ttl <= 3_600 ? "an hour" : ttl + " s"));
        }
        assertEquals(List.of(
                List.of("p2", "2026-11-20T09:00:00Z", Map.of("orders", 1L), "{revenue=1.00}", "2026-11-20T09:00:01Z", 400L, "an hour"),
                List.of("p1", "2026-11-20T10:00:00Z", Map.of("orders", 3L), "{revenue=7.25}", "2026-11-20T10:00:05Z", 500L, "a day"),
                List.of("p3", "2026-11-20T11:00:00Z", Map.of("orders", 5L), "{revenue=9.00}", "2026-11-20T11:00:30Z", 700L, "a day")), moved,
                "in slot order, each with its own TTL and write time; the newer p3 is kept");
    }

    /** What fences a speed process that lost its partition: the later write time stays, whatever arrives last. */
    @Test
    void ofTwoSpeedWritesTheLaterWriteTimeStaysWhateverArrivesLast() {
        SpeedRowsTable table = new SpeedRowsTable(session, KEYSPACE, Duration.ofDays(7));
        Instant bucket = Instant.parse("2025-10-22T00:00:00Z"); // a period of its own
        Instant slot = Instant.parse("2025-10-22T10:00:00Z");
        Aggregate one = Aggregate.of(sales, purchase("a", bucket, "3.50", "u1"));
        Aggregate two = one.plus(Aggregate.of(sales, purchase("b", bucket, "1.25", "u2")));
        SpeedRow newer = new SpeedRow(Granularity.DAY, bucket, List.of("p9", "NP"), slot, 1, two, slot.plusSeconds(9));
        SpeedRow older = new SpeedRow(Granularity.DAY, bucket, List.of("p9", "NP"), slot, 1, one, slot.plusSeconds(5));
        long writeTime = slot.toEpochMilli() * 1_000;
        table.writePartition(sales, List.of(newer), writeTime + 6).forEach(w -> w.toCompletableFuture().join());
        table.writePartition(sales, List.of(older), writeTime + 4).forEach(w -> w.toCompletableFuture().join());
        List<SpeedRow> read = table.read(sales, Granularity.DAY, Granularity.DAY.periodOf(bucket), slot).toCompletableFuture().join();
        assertEquals(List.of(readable(newer)), read.stream().map(CassandraTablesIT::readable).toList());

        SpeedPartitionsTable progress = new SpeedPartitionsTable(session, KEYSPACE);
        SpeedPartitionStatus ahead = new SpeedPartitionStatus("fenced", 1, 300, slot.plusSeconds(9), 2,
                Map.of("malformed_json", 3L, "future_ts", 1L), slot.plusSeconds(20), Map.of(Duration.ofMinutes(15), slot.plusSeconds(9)),
                Set.of(Duration.ofDays(1)), Map.of("sales/77428ece1e92", slot.plusSeconds(2), "pageviews/0a1b2c3d4e5f", Instant.EPOCH));
        progress.write(ahead, writeTime + 6).toCompletableFuture().join();
        progress.recordViewVersions("fenced", 1, ahead.viewVersions(), writeTime).toCompletableFuture().join();
        progress.recordViewVersions("fenced", 1, Map.of("sales/0000aaaa1111", slot), writeTime - 1).toCompletableFuture().join();
        progress.write(new SpeedPartitionStatus("fenced", 1, 200, slot.plusSeconds(5), 1, Map.of(), slot.plusSeconds(30), Map.of(),
                Set.of(), Map.of()), writeTime + 4).toCompletableFuture().join();
        assertEquals(List.of(ahead), progress.readAll().toCompletableFuture().join().stream()
                .filter(s -> s.applicationId().equals("fenced")).toList());
        // a release that does not record widths and TTLs leaves the recorded ones as they were
        progress.write(new SpeedPartitionStatus("fenced", 1, 400, slot.plusSeconds(12), 3, Map.of(), slot.plusSeconds(40), Map.of(),
                Set.of(), Map.of()), writeTime + 8).toCompletableFuture().join();
        SpeedPartitionStatus later = progress.readAll().toCompletableFuture().join().stream()
                .filter(s -> s.applicationId().equals("fenced")).findFirst().orElseThrow();
        assertEquals(List.of(400L, ahead.slotWidths(), ahead.rowsTtls(), ahead.viewVersions()),
                List.of(later.nextOffset(), later.slotWidths(), later.rowsTtls(), later.viewVersions()));
    }

    /** A change of slot width and TTL: the old ones stay recorded beside the new for as long as rows written with them live. */
    @Test
    void aSpeedPartitionKeepsEverySlotWidthAndTtlItsRowsMayStillHave() {
        SpeedPartitionsTable progress = new SpeedPartitionsTable(session, KEYSPACE);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        long writeTime = now.toEpochMilli() * 1_000;
        progress.write(new SpeedPartitionStatus("narrowed", 0, 10, now, 0, Map.of(), now, Map.of(Duration.ofHours(1), now),
                Set.of(Duration.ofDays(1)), Map.of()), writeTime).toCompletableFuture().join();
        Instant later = now.plusSeconds(5);
        progress.write(new SpeedPartitionStatus("narrowed", 0, 20, later, 0, Map.of(), later, Map.of(Duration.ofMinutes(1), later),
                Set.of(Duration.ofSeconds(30)), Map.of()), writeTime + 1).toCompletableFuture().join();
        SpeedPartitionStatus read = progress.readAll().toCompletableFuture().join().stream()
                .filter(s -> s.applicationId().equals("narrowed")).findFirst().orElseThrow();
        assertEquals(Map.of(Duration.ofHours(1), now, Duration.ofMinutes(1), later), read.slotWidths());
        assertEquals(Set.of(Duration.ofDays(1), Duration.ofSeconds(30)), read.rowsTtls());
        int ttl = session.execute("SELECT TTL(slot_width_ingests) FROM " + KEYSPACE + ".speed_partitions WHERE application_id = 'narrowed'"
                + " AND source_partition = 0").one().getList(0, Integer.class).get(0); // the element of 1 min, the smaller key
        assertTrue(ttl > 0 && ttl <= 30, "the width lives as long as the rows written with it: " + ttl + " s");
        assertThrows(IllegalArgumentException.class, () -> progress.write(new SpeedPartitionStatus("narrowed", 0, 30, now, 0, Map.of(),
                now, Map.of(Duration.ofMinutes(1), now), Set.of(), Map.of()), writeTime + 2), "a width with no TTL would be recorded for good");
    }

    private <T> void writeAll(List<T> rows, java.util.function.Function<T, java.util.concurrent.CompletionStage<Void>> write) {
        // modest: hundreds of concurrent single-row writes to one partition contend inside Cassandra
        // and, on a busy two-core machine, can exceed its 2 s write timeout
        Semaphore inFlight = new Semaphore(32);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (T row : rows) {
            inFlight.acquireUninterruptibly();
            all.add(write.apply(row).toCompletableFuture().whenComplete((v, e) -> inFlight.release()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    }

    /** A row with its aggregate reduced to what readers see (sketch objects have no value equality). */
    private static List<Object> readable(BatchRow r) {
        return List.of(r.generation(), r.level(), r.bucket(), r.dims(), r.aggregate().values().stream().map(MetricValue::read).toList());
    }

    private static List<Object> readable(SpeedRow r) {
        return List.of(r.level(), r.bucket(), r.dims(), r.slot(), r.sourcePartition(), r.latestIngest(),
                r.aggregate().values().stream().map(v -> String.valueOf(v.read())).toList());
    }

    private static Event purchase(String id, Instant ts, String amount, String user) {
        return new Event(id, "purchase", ts, Map.of("amount", amount, "user_id", user));
    }
}
