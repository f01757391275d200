package dev.lambda.common.cassandra;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Where the speed layer stands on one input partition, as of its last flush: every record before
 * {@code nextOffset} has its aggregates in Cassandra; {@code duplicatesDropped} and
 * {@code deadLetters} (by reason code) count that partition's records since it was first processed.
 *
 * @param newestIngest {@code null} before the first record
 * @param slotWidth    the application's {@code --slot-width}: a batch cutoff must be one of its slot
 *                     boundaries; {@code null} in rows of releases before it was recorded
 */
public record SpeedPartitionStatus(String applicationId, int partition, long nextOffset, Instant newestIngest,
                                   long duplicatesDropped, Map<String, Long> deadLetters, Instant updatedAt, Duration slotWidth) {

    public SpeedPartitionStatus {
        deadLetters = Map.copyOf(deadLetters);
    }
}
