package dev.lambda.serving.store;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.SpeedRowsTable;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** {@link ViewRows} over Cassandra through the shared table classes (prepared statements, async). */
public final class CassandraViewRows implements ViewRows {

    private final CqlSession session;
    private final ViewStateTable states;
    private final BatchRowsTable batch;
    private final SpeedRowsTable speed;
    private final SpeedPartitionsTable partitions;

    public CassandraViewRows(CqlSession session, String keyspace) {
        this.session = session;
        this.states = new ViewStateTable(session, keyspace);
        this.batch = new BatchRowsTable(session, keyspace);
        // the TTL only matters for writes, which the serving layer never does
        this.speed = new SpeedRowsTable(session, keyspace, Duration.ofDays(7));
        this.partitions = new SpeedPartitionsTable(session, keyspace);
    }

    @Override
    public CompletionStage<List<SpeedPartitionStatus>> speedPartitions() {
        return partitions.readAll();
    }

    @Override
    public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
        return states.find(view.name(), view.version());
    }

    @Override
    public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long generation, Granularity level, Instant period) {
        return batch.read(view, generation, level, period);
    }

    @Override
    public CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
        return speed.read(view, level, period, fromSlot);
    }

    @Override
    public CompletionStage<Optional<Instant>> newestSpeedIngest(ViewDefinition view, Granularity level, Instant period) {
        return speed.newestIngest(view, level, period);
    }

    @Override
    public boolean reachable() {
        try {
            session.execute("SELECT release_version FROM system.local");
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
