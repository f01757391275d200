package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a keyspace's {@code speed_rows} to {@code speed_rows_by_slot}. The old table was clustered
 * by bucket first, so the merge's "slots at or after the cutoff" could not be a slice: every read went
 * through all the slots of its partition, expired ones too, until compaction purged them.
 *
 * <p>Every row goes over with the time it has left to live and its write time, the speed layer's
 * input position: a row the speed layer has written again since keeps its newer value (the later write
 * time wins), so a move that failed half way can simply run again. The old table is dropped once every
 * row is over; a process of the previous release still running then fails loudly instead of reading
 * or writing a table nothing else looks at, and one started after creates it again, empty: the layers
 * refuse it as before, and the next move copies nothing and drops it.
 */
final class SpeedRowsMigration {

    private static final Logger LOG = LoggerFactory.getLogger(SpeedRowsMigration.class);
    private static final String COLUMNS = "view_name, version, level, period, bucket, dims, slot, source_partition, counts, decimals, "
            + "sketches, latest_ingest";
    private static final int COLUMN_COUNT = 12;
    private static final int IN_FLIGHT = 128;

    private SpeedRowsMigration() {
    }

    /** Whether the keyspace still has the old table. */
    static boolean pending(CqlSession session, String keyspace) {
        return session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'speed_rows'",
                keyspace).one() != null;
    }

    /** @return how many rows were copied (0 when the old table is not there) */
    static long run(CqlSession session, String keyspace) {
        if (!pending(session, keyspace)) {
            return 0;
        }
        LOG.info("moving {}.speed_rows to speed_rows_by_slot (clustered by slot first)", keyspace);
        long[] copied = {0};
        try {
            copy(session, keyspace, copied);
        } catch (RuntimeException e) {
            if (!pending(session, keyspace)) {
                return copied[0]; // another process moved the rows and dropped the table while this one read it
            }
            throw new IllegalStateException("moving " + keyspace + ".speed_rows to speed_rows_by_slot failed after " + copied[0]
                    + " rows (" + e.getMessage() + "). Run it again: rows moved are kept, and the old table stays until every row is"
                    + " over. If Cassandra counted too many tombstones, purge the old table's expired rows first: ALTER TABLE " + keyspace
                    + ".speed_rows WITH gc_grace_seconds = 0 (it only holds rows with a TTL and is dropped next), then nodetool flush and"
                    + " nodetool garbagecollect " + keyspace + " speed_rows", e);
        }
        session.execute("DROP TABLE IF EXISTS " + keyspace + ".speed_rows");
        LOG.info("moved {} rows to {}.speed_rows_by_slot and dropped speed_rows", copied[0], keyspace);
        return copied[0];
    }

    private static void copy(CqlSession session, String keyspace, long[] copied) {
        PreparedStatement insert = session.prepare("INSERT INTO " + keyspace + ".speed_rows_by_slot (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        SimpleStatement scan = SimpleStatement.newInstance("SELECT " + COLUMNS + ", TTL(latest_ingest), WRITETIME(latest_ingest) FROM "
                + keyspace + ".speed_rows").setPageSize(1000).setTimeout(Duration.ofMinutes(1));
        Semaphore slots = new Semaphore(IN_FLIGHT);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (Row row : session.execute(scan)) {
            if (failure.get() != null) {
                break;
            }
            if (row.isNull("latest_ingest")) {
                continue; // every speed layer wrote it: a row without one is no row of theirs, and has no TTL or write time to keep
            }
            BoundStatementBuilder bound = insert.boundStatementBuilder();
            for (int i = 0; i < COLUMN_COUNT; i++) {
                if (!row.isNull(i)) { // a null left unset, so the copy writes no tombstone
                    bound.setBytesUnsafe(i, row.getBytesUnsafe(i));
                }
            }
            // a row written without a TTL (none of the speed layer's) keeps living without one: TTL 0
            bound.setInt(COLUMN_COUNT, row.isNull(COLUMN_COUNT) ? 0 : Math.max(1, row.getInt(COLUMN_COUNT)))
                    .setLong(COLUMN_COUNT + 1, row.getLong(COLUMN_COUNT + 1));
            slots.acquireUninterruptibly();
            session.executeAsync(bound.build()).whenComplete((rs, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
                slots.release();
            });
            if (++copied[0] % 100_000 == 0) {
                LOG.info("{} rows of {}.speed_rows moved", copied[0], keyspace);
            }
        }
        slots.acquireUninterruptibly(IN_FLIGHT);
        if (failure.get() != null) {
            throw new IllegalStateException("a write to speed_rows_by_slot failed: " + failure.get().getMessage(), failure.get());
        }
    }
}
