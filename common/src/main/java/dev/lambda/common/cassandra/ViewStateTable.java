package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Reads and publishes {@code view_state} rows. Statements are prepared once, here. A publish is a
 * lightweight transaction conditioned on the generation its run read when it started, so of two
 * recomputes that overlap, the one whose view was published by the other meanwhile does not publish.
 */
public final class ViewStateTable {

    private static final String COLUMNS = "view_name, version, generation, cutoff, built_at, published_at, events_in, "
            + "duplicates_dropped, rows_written, duration_ms, previous_generation, version_since";

    private final CqlSession session;
    private final PreparedStatement publishFirst;
    private final PreparedStatement publishReplacing;
    private final PreparedStatement selectOne;
    private final PreparedStatement selectView;
    private final PreparedStatement delete;

    public ViewStateTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".view_state";
        this.publishFirst = session.prepare("INSERT INTO " + table + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " IF NOT EXISTS");
        this.publishReplacing = session.prepare("UPDATE " + table + " SET generation = ?, cutoff = ?, built_at = ?, published_at = ?,"
                + " events_in = ?, duplicates_dropped = ?, rows_written = ?, duration_ms = ?, previous_generation = ?, version_since = ?"
                + " WHERE view_name = ? AND version = ? IF generation = ?");
        this.selectOne = session.prepare("SELECT " + COLUMNS + " FROM " + table + " WHERE view_name = ? AND version = ?");
        this.selectView = session.prepare("SELECT " + COLUMNS + " FROM " + table + " WHERE view_name = ?");
        this.delete = session.prepare("DELETE FROM " + table + " WHERE view_name = ? AND version = ? IF generation = ? AND published_at = ?");
    }

    /**
     * Publishes a generation with one write (at {@code consistency}), so readers switch from the old
     * generation to the new one at once, if the view version's published generation is still
     * {@code replacing} ({@code null}: none published yet).
     *
     * @return whether it was published; {@code false} when another writer published (or removed the
     *         state) since {@code replacing} was read
     */
    public CompletionStage<Boolean> publish(ViewState s, Long replacing, ConsistencyLevel consistency) {
        BoundStatement bound = replacing == null
                ? publishFirst.bind(s.view(), s.version(), s.generation(), s.cutoff(), s.builtAt(), s.publishedAt(), s.eventsIn(),
                        s.duplicatesDropped(), s.rowsWritten(), s.durationMs(), s.previousGeneration(), s.versionSince())
                : publishReplacing.bind(s.generation(), s.cutoff(), s.builtAt(), s.publishedAt(), s.eventsIn(), s.duplicatesDropped(),
                        s.rowsWritten(), s.durationMs(), s.previousGeneration(), s.versionSince(), s.view(), s.version(), replacing);
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
     * Every published version of a view (old versions linger until the batch drops them), read at the
     * serial level matching {@code consistency}: it sees every publish a quorum accepted and finishes
     * any still in progress, so a publish conditioned on what it read is refused only if another
     * writer came in between.
     */
    public CompletionStage<List<ViewState>> findAll(String view, ConsistencyLevel consistency) {
        return Pages.collect(session.executeAsync(selectView.bind(view).setConsistencyLevel(serialFor(consistency))),
                ViewStateTable::toState);
    }

    /** Removes a view version's state, if it is still as {@code read} (not published again since). @return whether it was removed */
    public CompletionStage<Boolean> delete(ViewState read, ConsistencyLevel consistency) {
        return session.executeAsync(delete.bind(read.view(), read.version(), read.generation(), read.publishedAt())
                .setConsistencyLevel(consistency).setSerialConsistencyLevel(serialFor(consistency))).thenApply(rs -> rs.wasApplied());
    }

    private static ViewState toState(Row row) {
        return new ViewState(row.getString("view_name"), row.getString("version"), row.getLong("generation"),
                row.getInstant("cutoff"), row.getInstant("built_at"), row.getInstant("published_at"),
                row.getLong("events_in"), row.getLong("duplicates_dropped"), row.getLong("rows_written"),
                row.getLong("duration_ms"), row.isNull("previous_generation") ? null : row.getLong("previous_generation"),
                row.getInstant("version_since"));
    }
}
