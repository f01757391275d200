package dev.lambda.common.cassandra;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Where the speed layer stands on one input partition, as of its last flush: every record before
 * {@code nextOffset} has its aggregates in Cassandra; {@code duplicatesDropped} and
 * {@code deadLetters} (by reason code) count that partition's records since it was first processed.
 *
 * @param newestIngest {@code null} before the first record
 * @param slotWidths   the slot widths of this partition's speed rows that may still be read: a batch
 *                     cutoff must be a boundary of each. A write records the application's
 *                     {@code --slot-width}; a read gives every width recorded within {@code rowsTtl}
 *                     of now (after a change of width, the old one's rows live that long). Empty in
 *                     rows of releases before widths were recorded
 * @param rowsTtl      the TTL of the speed rows, {@code null} in rows of releases before it was recorded
 */
public record SpeedPartitionStatus(String applicationId, int partition, long nextOffset, Instant newestIngest,
                                   long duplicatesDropped, Map<String, Long> deadLetters, Instant updatedAt,
                                   Set<Duration> slotWidths, Duration rowsTtl) {

    public SpeedPartitionStatus {
        deadLetters = Map.copyOf(deadLetters);
        slotWidths = Set.copyOf(slotWidths);
    }
}
