package dev.lambda.batch.recompute;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import dev.lambda.common.cassandra.ViewState;

/**
 * Makes a written generation the one readers use: one write to {@code view_state}, at {@code consistency},
 * if the view version's state is still as {@code replacing} was read ({@code null}: none yet).
 */
public interface Publisher {

    /** @return whether it was published; {@code false} when another run published since {@code replacing} was read */
    boolean publish(ViewState state, ViewState replacing, ConsistencyLevel consistency);
}
