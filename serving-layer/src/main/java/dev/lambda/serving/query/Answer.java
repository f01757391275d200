package dev.lambda.serving.query;

import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The answer to a query: flat rows plus how fresh they are.
 *
 * @param readLevel     the stored level the rows were read from
 * @param batchCutoff   the cutoff of the batch generation used, {@code null} if none is published yet
 * @param speedThrough  ingest time of the newest event among the speed rows used, {@code null} if none
 */
public record Answer(Query query, Granularity readLevel, Long generation, Instant batchCutoff, Instant speedThrough, List<Row> rows) {

    public Answer {
        rows = List.copyOf(rows);
    }

    /**
     * @param bucket  {@code null} for granularity "all"
     * @param groups  values of the group-by dimensions, in query order
     * @param metrics values of the asked metrics, in query order: Long counts and distinct
     *                estimates, BigDecimal sums/mins/maxes (null when there was no value)
     */
    public record Row(Instant bucket, List<String> groups, List<Object> metrics) {
        public Row {
            groups = List.copyOf(groups);
            metrics = Collections.unmodifiableList(new ArrayList<>(metrics));
        }
    }
}
