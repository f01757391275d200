package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import java.util.concurrent.CompletionStage;
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
 * time wins), so the move may run while the speed layer writes, twice, or from two processes at once.
 * The old table is dropped once every row is over; a process of the previous version still using it
 * then fails loudly (a speed layer retries its write, so nothing it read is lost) instead of reading or
 * writing a table nothing else looks at.
 */
final class SpeedRowsMigration {

    private static final Logger LOG = LoggerFactory.getLogger(SpeedRowsMigration.class);
    private static final String COLUMNS = "view_name, version, level, period, bucket, dims, slot, source_partition, counts, decimals, "
            + "sketches, latest_ingest";
    private static final int IN_FLIGHT = 128;

    private SpeedRowsMigration() {
    }

    /** @return how many rows were moved (0 when the old table is not there) */
    static long run(CqlSession session, String keyspace) {
        if (session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'speed_rows'",
                keyspace).one() == null) {
            return 0;
        }
        LOG.info("moving {}.speed_rows to speed_rows_by_slot (clustered by slot first)", keyspace);
        PreparedStatement insert = session.prepare("INSERT INTO " + keyspace + ".speed_rows_by_slot (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        long moved;
        try {
            moved = copy(session, keyspace, insert);
        } catch (InvalidQueryException e) {
            if (!e.getMessage().contains("speed_rows")) {
                throw e;
            }
            return 0; // another process moved the rows and dropped the table while this one read it
        }
        session.execute("DROP TABLE IF EXISTS " + keyspace + ".speed_rows");
        LOG.info("moved {} rows to {}.speed_rows_by_slot and dropped speed_rows", moved, keyspace);
        return moved;
    }

    private static long copy(CqlSession session, String keyspace, PreparedStatement insert) {
        Semaphore slots = new Semaphore(IN_FLIGHT);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long moved = 0;
        SimpleStatement scan = SimpleStatement.newInstance("SELECT " + COLUMNS + ", TTL(latest_ingest), WRITETIME(latest_ingest) FROM "
                + keyspace + ".speed_rows").setPageSize(1000);
        for (Row row : session.execute(scan)) {
            var bound = insert.boundStatementBuilder();
            for (int i = 0; i < 12; i++) {
                if (!row.isNull(i)) { // a null left unset, so the copy writes no tombstone
                    bound.setBytesUnsafe(i, row.getBytesUnsafe(i));
                }
            }
            // a row written without a TTL (none of the speed layer's) keeps living without one: TTL 0
            bound.setInt(12, row.isNull(12) ? 0 : Math.max(1, row.getInt(12))).setLong(13, row.getLong(13));
            slots.acquireUninterruptibly();
            CompletionStage<AsyncResultSet> written = session.executeAsync(bound.build());
            written.whenComplete((rs, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
                slots.release();
            });
            moved++;
            if (failure.get() != null) {
                break;
            }
        }
        slots.acquireUninterruptibly(IN_FLIGHT);
        if (failure.get() != null) {
            throw new IllegalStateException("moving " + keyspace + ".speed_rows to speed_rows_by_slot failed (it is taken up again at the"
                    + " next start; the old table stays until then)", failure.get());
        }
        return moved;
    }
}
