package dev.lambda.common.cassandra;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.stream.Collectors;

/**
 * Where the speed layer stands on one input partition, as of its last flush: every record before
 * {@code nextOffset} has its aggregates in Cassandra; {@code duplicatesDropped} and
 * {@code deadLetters} (by reason code) count that partition's records since it was first processed.
 *
 * @param newestIngest {@code null} before the first record
 * @param slotWidths   the slot widths this partition's speed rows were written with, each with the
 *                     partition's newest ingest when last written with it: its rows of that width
 *                     have slots no later than that ingest's. A write records the application's
 *                     {@code --slot-width}; a read gives every width whose rows may still live (after a
 *                     change of width, the old one's rows live a TTL). Empty in rows of releases before
 *                     widths were recorded
 * @param rowsTtls     the TTLs the speed rows were written with, for as long as rows written with each
 *                     may live (a write records one); empty in rows of releases before they were recorded
 * @param viewVersions each view version ({@code ViewDefinition.versionKey}) of the application's views
 *                     file, with a time no record left out of the partition's rows of that version was
 *                     ingested after ({@link Instant#EPOCH} when none was: the application has run the
 *                     version from the partition's first offset). Recorded by each task as it starts
 *                     (at its first flush, or its first record when only that tells the time); empty
 *                     before that, and in rows of releases before they were recorded
 */
public record SpeedPartitionStatus(String applicationId, int partition, long nextOffset, Instant newestIngest,
                                   long duplicatesDropped, Map<String, Long> deadLetters, Instant updatedAt,
                                   Map<Duration, Instant> slotWidths, Set<Duration> rowsTtls, Map<String, Instant> viewVersions) {

    public SpeedPartitionStatus {
        deadLetters = Map.copyOf(deadLetters);
        slotWidths = Map.copyOf(slotWidths);
        rowsTtls = Set.copyOf(rowsTtls);
        viewVersions = Map.copyOf(viewVersions);
    }

    /**
     * Per partition, the record of the application furthest on it (by offset, then by time of its
     * last flush): the speed layer that runs now, whatever an application id no longer used left
     * behind. Records with no progress yet (only a width recorded) are left out.
     */
    public static Collection<SpeedPartitionStatus> furthestPerPartition(Collection<SpeedPartitionStatus> all) {
        Comparator<SpeedPartitionStatus> further = Comparator.comparingLong(SpeedPartitionStatus::nextOffset)
                .thenComparing(SpeedPartitionStatus::updatedAt);
        return all.stream().filter(s -> s.updatedAt() != null)
                .collect(Collectors.toMap(SpeedPartitionStatus::partition, s -> s, BinaryOperator.maxBy(further))).values();
    }

    /**
     * The {@link #furthestPerPartition} records that report view versions: a partition whose furthest
     * application reports none (no speed layer yet, or one of a release before versions were
     * recorded) says nothing of which versions run on it.
     */
    public static List<SpeedPartitionStatus> reportingVersions(Collection<SpeedPartitionStatus> all) {
        return furthestPerPartition(all).stream().filter(s -> !s.viewVersions().isEmpty()).toList();
    }
}
