package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import java.util.ArrayList;
import java.util.List;

/**
 * Groups statements that write the same partition into unlogged batches: Cassandra applies a
 * single-partition batch as one mutation, so a flush of many rows costs a few requests instead of
 * one per row. Batches are capped by statement count and estimated size to stay under the server's
 * batch-size limits ({@code batch_size_fail_threshold}).
 */
final class PartitionBatches {

    static final int MAX_STATEMENTS = 64;
    static final int MAX_BYTES = 48 * 1024;

    private PartitionBatches() {
    }

    /**
     * @param statements statements of one partition
     * @param sizes      estimated payload size of each statement
     */
    static List<BatchStatement> of(List<BoundStatement> statements, List<Integer> sizes) {
        List<BatchStatement> batches = new ArrayList<>();
        List<BoundStatement> current = new ArrayList<>();
        int bytes = 0;
        for (int i = 0; i < statements.size(); i++) {
            int size = sizes.get(i);
            if (!current.isEmpty() && (current.size() >= MAX_STATEMENTS || bytes + size > MAX_BYTES)) {
                batches.add(BatchStatement.newInstance(BatchType.UNLOGGED, current.toArray(new BoundStatement[0])));
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(statements.get(i));
            bytes += size;
        }
        if (!current.isEmpty()) {
            batches.add(BatchStatement.newInstance(BatchType.UNLOGGED, current.toArray(new BoundStatement[0])));
        }
        return batches;
    }
}
