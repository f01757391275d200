package dev.lambda.batch.recompute;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import dev.lambda.common.cassandra.ViewState;

/** Makes a written generation the one readers use: one write to {@code view_state}, at {@code consistency}. */
public interface Publisher {

    void publish(ViewState state, ConsistencyLevel consistency);
}
