package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Reads, publishes and retires {@code view_state} rows. Statements are prepared once, here. A
 * publish is a lightweight transaction conditioned on the state its run read when it started, so of
 * two recomputes that overlap, the one whose view was published (or retired) by the other meanwhile
 * does not publish.
 */
public final class ViewStateTable {

    private static final String PUBLISHED_COLUMNS = "view_name, version, generation, cutoff, built_at, published_at, events_in, "
            + "duplicates_dropped, rows_written, duration_ms, previous_generation, version_since";
    private static final String COLUMNS = PUBLISHED_COLUMNS + ", replaced_by, retired_at";

    private final CqlSession session;
    private final PreparedStatement publishFirst;
    private final PreparedStatement publishReplacing;
    private final PreparedStatement publishReplacingRetired;
    private final PreparedStatement selectOne;
    private final PreparedStatement selectView;
    private final PreparedStatement retire;

    public ViewStateTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".view_state";
        // the retirement's columns are written (as null) only over a retired state: other publishes leave them unset, not tombstoned
        this.publishFirst = session.prepare("INSERT INTO " + table + " (" + PUBLISHED_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?) IF NOT EXISTS");
        String set = "UPDATE " + table + " SET generation = ?, cutoff = ?, built_at = ?, published_at = ?, events_in = ?,"
                + " duplicates_dropped = ?, rows_written = ?, duration_ms = ?, previous_generation = ?, version_since = ?";
        String where = " WHERE view_name = ? AND version = ? IF generation = ? AND published_at = ? AND retired_at = ";
        this.publishReplacing = session.prepare(set + where + "null");
        this.publishReplacingRetired = session.prepare(set + ", replaced_by = null, retired_at = null" + where + "?");
        this.selectOne = session.prepare("SELECT " + COLUMNS + " FROM " + table + " WHERE view_name = ? AND version = ?");
        this.selectView = session.prepare("SELECT " + COLUMNS + " FROM " + table + " WHERE view_name = ?");
        this.retire = session.prepare("UPDATE " + table + " SET replaced_by = ?, retired_at = ? WHERE view_name = ? AND version = ?"
                + " IF generation = ? AND published_at = ? AND retired_at = null");
    }

    /**
     * Publishes a generation with one write (at {@code consistency}), so readers switch from the old
     * generation to the new one at once, if the view version's state is still as {@code replacing}
     * was read ({@code null}: none published yet): the same generation published at the same time
     * (not published again since, perhaps by a roll-back), and retired or not as it was. Publishing
     * over a retired state makes the version current again (a change rolled back).
     *
     * @return whether it was published; {@code false} when another writer published or retired the
     *         state since {@code replacing} was read
     */
    public CompletionStage<Boolean> publish(ViewState s, ViewState replacing, ConsistencyLevel consistency) {
        if (s.retired()) {
            throw new IllegalArgumentException("a retired state is not published: " + s);
        }
        BoundStatement bound;
        if (replacing == null) {
            bound = publishFirst.bind(s.view(), s.version(), s.generation(), s.cutoff(), s.builtAt(), s.publishedAt(), s.eventsIn(),
                    s.duplicatesDropped(), s.rowsWritten(), s.durationMs(), s.previousGeneration(), s.versionSince());
        } else {
            if (!replacing.view().equals(s.view()) || !replacing.version().equals(s.version())) {
                throw new IllegalArgumentException("a state is published over one of the same view version, not " + replacing);
            }
            List<Object> values = new ArrayList<>(Arrays.asList(s.generation(), s.cutoff(), s.builtAt(), s.publishedAt(), s.eventsIn(),
                    s.duplicatesDropped(), s.rowsWritten(), s.durationMs(), s.previousGeneration(), s.versionSince(), s.view(),
                    s.version(), replacing.generation(), replacing.publishedAt()));
            if (replacing.retired()) {
                values.add(replacing.retiredAt());
            }
            bound = (replacing.retired() ? publishReplacingRetired : publishReplacing).bind(values.toArray());
        }
        return session.executeAsync(bound.setConsistencyLevel(consistency).setSerialConsistencyLevel(serialFor(consistency)))
                .thenApply(rs -> rs.wasApplied());
    }

    /**
     * The serial level matching a write level: a datacenter's own replicas decide for a LOCAL_
     * level, every datacenter's for the others.
     */
    static ConsistencyLevel serialFor(ConsistencyLevel consistency) {
        return consistency.isDcLocal() ? DefaultConsistencyLevel.LOCAL_SERIAL : DefaultConsistencyLevel.SERIAL;
    }

    public CompletionStage<Optional<ViewState>> find(String view, String version) {
        return session.executeAsync(selectOne.bind(view, version))
                .thenApply(rs -> Optional.ofNullable(rs.one()).map(ViewStateTable::toState));
    }

    /**
     * Every published version of a view (retired ones too), read at the
     * serial level matching {@code consistency}: it sees every publish a quorum accepted and finishes
     * any still in progress, so a publish conditioned on what it read is refused only if another
     * writer came in between.
     */
    public CompletionStage<List<ViewState>> findAll(String view, ConsistencyLevel consistency) {
        return Pages.collect(session.executeAsync(selectView.bind(view).setConsistencyLevel(serialFor(consistency))),
                ViewStateTable::toState);
    }

    /**
     * Marks a view version's state retired by {@code replacedBy}, if it is still as {@code read}: not
     * published again, nor retired, since. Its row stays, so readers on an old views file learn that
     * the version is gone instead of finding no state (which reads as "not published yet").
     *
     * @return whether it was retired
     */
    public CompletionStage<Boolean> retire(ViewState read, String replacedBy, Instant at, ConsistencyLevel consistency) {
        if (read.retired()) {
            throw new IllegalArgumentException("already retired: " + read);
        }
        return session.executeAsync(retire.bind(replacedBy, at, read.view(), read.version(), read.generation(), read.publishedAt())
                .setConsistencyLevel(consistency).setSerialConsistencyLevel(serialFor(consistency))).thenApply(rs -> rs.wasApplied());
    }

    private static ViewState toState(Row row) {
        return new ViewState(row.getString("view_name"), row.getString("version"), row.getLong("generation"),
                row.getInstant("cutoff"), row.getInstant("built_at"), row.getInstant("published_at"),
                row.getLong("events_in"), row.getLong("duplicates_dropped"), row.getLong("rows_written"),
                row.getLong("duration_ms"), row.isNull("previous_generation") ? null : row.getLong("previous_generation"),
                row.getInstant("version_since"), row.getString("replaced_by"), row.getInstant("retired_at"));
    }
}
