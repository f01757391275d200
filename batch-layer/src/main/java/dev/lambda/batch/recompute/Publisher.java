package dev.lambda.batch.recompute;

import dev.lambda.common.cassandra.ViewState;

/** Makes a written generation the one readers use: one write to {@code view_state}. */
public interface Publisher {

    void publish(ViewState state);
}
