package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one place the Cassandra schema lives (DESIGN §6), applied idempotently.
 *
 * <ul>
 *   <li>{@code view_state}: per view and version, the published batch generation and how it was built;
 *       publishing a generation is one write to this row; a version another one replaced is marked
 *       retired here, not deleted, so a reader on an old views file learns it.</li>
 *   <li>{@code batch_rows}: a generation's aggregates, partitioned by (view, version, generation, level,
 *       period) so every partition is bounded and an old generation goes with partition deletes.</li>
 *   <li>{@code speed_rows_by_slot}: the speed layer's absolute aggregates per (slot, bucket, dims,
 *       source partition), written with a TTL; readers take only slots at or after the cutoff, which
 *       the slot leading the clustering makes one slice of the partition (the slots before it,
 *       expired ones included, are never read). It replaced {@code speed_rows}, clustered by bucket
 *       first ({@link SpeedRowsMigration}).</li>
 *   <li>{@code batch_generations}: every generation the batch wrote, with the partitions it wrote, so
 *       that old ones can be dropped with partition deletes, and when a publish took each out of use.</li>
 *   <li>{@code speed_partitions}: per speed-layer application and input partition, how far its rows
 *       reach and its duplicates and dead letters so far (absolute values, for status pages), and
 *       the slot widths and TTL of its rows, which a batch cutoff must agree with, and since when its
 *       rows hold every record for each view version it runs, which a batch publish must wait for.</li>
 * </ul>
 *
 * Metric values are stored in three frozen maps keyed by metric name (one cell each, so an upsert
 * never leaves collection tombstones): counts, exact decimals (sum/min/max) and HLL sketches.
 */
public final class CassandraSchema {

    private static final Pattern KEYSPACE = Pattern.compile("[a-z][a-z0-9_]{0,47}");

    private final String keyspace;
    private final Replication replication;

    public CassandraSchema(String keyspace, Replication replication) {
        this.keyspace = checkedKeyspace(keyspace);
        this.replication = replication;
    }

    /** {@code keyspace} if it is a name this schema can use (it goes into CQL unquoted). */
    static String checkedKeyspace(String keyspace) {
        if (!KEYSPACE.matcher(keyspace).matches()) {
            throw new IllegalArgumentException("keyspace \"" + keyspace + "\" must be lower-case letters, digits and _, starting with a"
                    + " letter, at most 48");
        }
        return keyspace;
    }

    public String keyspace() {
        return keyspace;
    }

    /**
     * Creates the keyspace and tables that do not exist yet; safe to run from every process at start.
     * A keyspace that still has a table this release replaced is refused, naming the one-shot that
     * moves it ({@link #upgrade}): the move reads the whole table, once, while no speed layer of the
     * previous release writes it, not from every process at every start.
     */
    public void apply(CqlSession session) {
        if (SpeedRowsMigration.pending(session, keyspace)) {
            throw new IllegalStateException("keyspace " + keyspace + " still has the table speed_rows of a release before 2026-11-24:"
                    + " stop every process of that release (the batch schedule too), then run ./lambda schema (java -jar launcher.jar schema)"
                    + " once with these Cassandra settings to move its rows to speed_rows_by_slot (README, \"Upgrading from a release with"
                    + " the table speed_rows\")");
        }
        create(session);
    }

    /**
     * {@link #apply} for a keyspace of an earlier release: also moves the rows of the tables this
     * release replaced, then drops them. For the one-shot {@code ./lambda schema} and the demo, with
     * no process of the earlier release running.
     *
     * @return how many rows were moved (0 when there was nothing to move)
     */
    public long upgrade(CqlSession session) {
        create(session);
        return SpeedRowsMigration.run(session, keyspace);
    }

    private void create(CqlSession session) {
        for (String statement : statements()) {
            session.execute(statement);
        }
        // columns added since a table was first created (CREATE TABLE IF NOT EXISTS leaves an existing one as it is)
        for (String[] column : ADDED_COLUMNS) {
            boolean present = session.execute("SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?"
                    + " AND column_name = ?", keyspace, column[0], column[1]).one() != null;
            if (!present) { // IF NOT EXISTS: processes of an upgrade may all find it missing at once
                session.execute("ALTER TABLE " + keyspace + "." + column[0] + " ADD IF NOT EXISTS " + column[1] + " " + column[2]);
            }
        }
    }

    /** Table, column and type of every column added after the first release. */
    private static final String[][] ADDED_COLUMNS = {{"view_state", "version_since", "timestamp"},
        {"speed_partitions", "slot_width_ingests", "map<bigint, timestamp>"}, {"speed_partitions", "rows_ttls_ms", "set<bigint>"},
        {"view_state", "replaced_by", "text"}, {"view_state", "retired_at", "timestamp"},
        {"speed_partitions", "view_versions", "frozen<map<text, timestamp>>"}, {"batch_generations", "replaced_at", "timestamp"}};

    List<String> statements() {
        String metrics = """
                  counts frozen<map<text, bigint>>,
                  decimals frozen<map<text, decimal>>,
                  sketches frozen<map<text, blob>>,
                """;
        return List.of(
                "CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = " + replication.toCql(),
                """
                CREATE TABLE IF NOT EXISTS %s.view_state (
                  view_name text,
                  version text,
                  generation bigint,
                  cutoff timestamp,
                  built_at timestamp,
                  published_at timestamp,
                  events_in bigint,
                  duplicates_dropped bigint,
                  rows_written bigint,
                  duration_ms bigint,
                  previous_generation bigint,
                  version_since timestamp,
                  replaced_by text,
                  retired_at timestamp,
                  PRIMARY KEY ((view_name), version)
                )""".formatted(keyspace),
                """
                CREATE TABLE IF NOT EXISTS %s.batch_rows (
                  view_name text,
                  version text,
                  generation bigint,
                  level text,
                  period timestamp,
                  bucket timestamp,
                  dims frozen<list<text>>,
                %s  PRIMARY KEY ((view_name, version, generation, level, period), bucket, dims)
                )""".formatted(keyspace, metrics),
                """
                CREATE TABLE IF NOT EXISTS %s.speed_rows_by_slot (
                  view_name text,
                  version text,
                  level text,
                  period timestamp,
                  bucket timestamp,
                  dims frozen<list<text>>,
                  slot timestamp,
                  source_partition int,
                %s  latest_ingest timestamp,
                  PRIMARY KEY ((view_name, version, level, period), slot, bucket, dims, source_partition)
                )""".formatted(keyspace, metrics),
                """
                CREATE TABLE IF NOT EXISTS %s.batch_generations (
                  view_name text,
                  version text,
                  generation bigint,
                  cutoff timestamp,
                  partitions frozen<set<text>>,
                  written_at timestamp,
                  replaced_at timestamp,
                  PRIMARY KEY ((view_name, version), generation)
                )""".formatted(keyspace),
                """
                CREATE TABLE IF NOT EXISTS %s.speed_partitions (
                  application_id text,
                  source_partition int,
                  next_offset bigint,
                  newest_ingest timestamp,
                  duplicates_dropped bigint,
                  dead_letters frozen<map<text, bigint>>,
                  updated_at timestamp,
                  slot_width_ingests map<bigint, timestamp>,
                  rows_ttls_ms set<bigint>,
                  view_versions frozen<map<text, timestamp>>,
                  PRIMARY KEY ((application_id), source_partition)
                )""".formatted(keyspace));
    }
}
