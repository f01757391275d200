package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Records and lists the generations the batch layer wrote ({@code batch_generations}). */
public final class BatchGenerationsTable {

    private static final String COLUMNS = "view_name, version, generation, cutoff, partitions, written_at";
    private static final String LISTED = COLUMNS + ", replaced_at";

    private final CqlSession session;
    private final PreparedStatement insert;
    private final PreparedStatement selectAll;
    private final PreparedStatement delete;
    private final PreparedStatement deleteMark;
    private final PreparedStatement selectVersions;
    private final PreparedStatement markReplaced;

    public BatchGenerationsTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".batch_generations";
        // the record's own columns only: a run renewing its record leaves a replacement mark as it is
        this.insert = session.prepare("INSERT INTO " + table + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)");
        this.selectAll = session.prepare("SELECT " + LISTED + " FROM " + table + " WHERE view_name = ? AND version = ?");
        this.markReplaced = session.prepare("UPDATE " + table + " SET replaced_at = ? WHERE view_name = ? AND version = ?"
                + " AND generation = ? IF EXISTS");
        this.delete = session.prepare("DELETE FROM " + table + " WHERE view_name = ? AND version = ? AND generation = ?");
        this.deleteMark = session.prepare("DELETE replaced_at FROM " + table + " WHERE view_name = ? AND version = ? AND generation = ?");
        this.selectVersions = session.prepare("SELECT DISTINCT view_name, version FROM " + table);
    }

    /** Records a generation at {@code consistency}: the run's, so that a cleanup in any datacenter sees it. */
    public CompletionStage<Void> record(BatchGeneration g, ConsistencyLevel consistency) {
        return session.executeAsync(insert.bind(g.view(), g.version(), g.generation(), g.cutoff(), g.partitions(), g.writtenAt())
                .setConsistencyLevel(consistency)).thenApply(rs -> null);
    }

    /**
     * Marks a recorded generation as replaced at {@code at} (a later mark overwrites an earlier one).
     * Conditional on the record: a generation already forgotten is left so, with no stray mark.
     */
    public CompletionStage<Void> markReplaced(String view, String version, long generation, Instant at, ConsistencyLevel consistency) {
        return session.executeAsync(markReplaced.bind(at, view, version, generation).setConsistencyLevel(consistency)
                .setSerialConsistencyLevel(ViewStateTable.serialFor(consistency))).thenApply(rs -> null);
    }

    /** The generations recorded (a row holding only a mark, which {@link #forget} prevents, is none). */
    public CompletionStage<List<BatchGeneration>> list(String view, String version) {
        return Pages.collect(session.executeAsync(selectAll.bind(view, version)), row -> !row.isNull("written_at"),
                BatchGenerationsTable::toGeneration);
    }

    /** The versions of a view with generations recorded: a scan of the table's partition keys, a few per view. */
    public CompletionStage<List<String>> versions(String view) {
        return Pages.collect(session.executeAsync(selectVersions.bind()), row -> view.equals(row.getString("view_name")),
                row -> row.getString("version"));
    }

    /**
     * Forgets a generation recorded no later than {@code asOf}: one recorded again since stays. Its
     * mark goes as of now, after the record: a mark written after {@code asOf} (by a run that read
     * the record before this) would otherwise stay as a row of its own, a mark of nothing.
     */
    public CompletionStage<Void> forget(String view, String version, long generation, Instant asOf, ConsistencyLevel consistency) {
        return session.executeAsync(delete.bind(view, version, generation).setQueryTimestamp(WriteTimes.micros(asOf))
                        .setConsistencyLevel(consistency))
                .thenCompose(rs -> session.executeAsync(deleteMark.bind(view, version, generation).setConsistencyLevel(consistency)))
                .thenApply(rs -> null);
    }

    private static BatchGeneration toGeneration(Row row) {
        return new BatchGeneration(row.getString("view_name"), row.getString("version"), row.getLong("generation"),
                row.getInstant("cutoff"), row.getSet("partitions", String.class), row.getInstant("written_at"),
                row.getInstant("replaced_at"));
    }
}
