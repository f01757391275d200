package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Reads and publishes {@code view_state} rows. Statements are prepared once, here. */
public final class ViewStateTable {

    private static final String COLUMNS = "view_name, version, generation, cutoff, built_at, published_at, events_in, "
            + "duplicates_dropped, rows_written, duration_ms, previous_generation, version_since";

    private final CqlSession session;
    private final PreparedStatement publish;
    private final PreparedStatement selectOne;
    private final PreparedStatement selectView;
    private final PreparedStatement delete;

    public ViewStateTable(CqlSession session, String keyspace) {
        this.session = session;
        String table = keyspace + ".view_state";
        this.publish = session.prepare("INSERT INTO " + table + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        this.selectOne = session.prepare("SELECT " + COLUMNS + " FROM " + table + " WHERE view_name = ? AND version = ?");
        this.selectView = session.prepare("SELECT " + COLUMNS + " FROM " + table + " WHERE view_name = ?");
        this.delete = session.prepare("DELETE FROM " + table + " WHERE view_name = ? AND version = ?");
    }

    /**
     * Publishes a generation: one write (at {@code consistency}), so readers switch from the old
     * generation to the new one at once.
     */
    public CompletionStage<Void> publish(ViewState s, ConsistencyLevel consistency) {
        BoundStatement bound = publish.bind(s.view(), s.version(), s.generation(), s.cutoff(), s.builtAt(), s.publishedAt(),
                s.eventsIn(), s.duplicatesDropped(), s.rowsWritten(), s.durationMs(), s.previousGeneration(), s.versionSince())
                .setConsistencyLevel(consistency);
        return session.executeAsync(bound).thenApply(rs -> null);
    }

    public CompletionStage<Optional<ViewState>> find(String view, String version) {
        return session.executeAsync(selectOne.bind(view, version))
                .thenApply(rs -> Optional.ofNullable(rs.one()).map(ViewStateTable::toState));
    }

    /** Every published version of a view (old versions linger until the batch drops them). */
    public CompletionStage<List<ViewState>> findAll(String view) {
        return Pages.collect(session.executeAsync(selectView.bind(view)), ViewStateTable::toState);
    }

    public CompletionStage<Void> delete(String view, String version) {
        return session.executeAsync(delete.bind(view, version)).thenApply(rs -> null);
    }

    private static ViewState toState(Row row) {
        return new ViewState(row.getString("view_name"), row.getString("version"), row.getLong("generation"),
                row.getInstant("cutoff"), row.getInstant("built_at"), row.getInstant("published_at"),
                row.getLong("events_in"), row.getLong("duplicates_dropped"), row.getLong("rows_written"),
                row.getLong("duration_ms"), row.isNull("previous_generation") ? null : row.getLong("previous_generation"),
                row.getInstant("version_since"));
    }
}
