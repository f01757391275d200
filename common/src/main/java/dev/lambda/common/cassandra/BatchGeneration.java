package dev.lambda.common.cassandra;

import dev.lambda.common.time.Granularity;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A generation the batch layer wrote (published or not): which {@code batch_rows} partitions it
 * has, so that it can be dropped with partition deletes once it is no longer needed.
 *
 * @param partitions each as {@code level/periodEpochMillis}
 * @param replacedAt when a run last published, or set out to publish, another generation over this one
 *                   (readers left it then, if it was published), or {@code null}: never published, still
 *                   published, or replaced by an older release
 */
public record BatchGeneration(String view, String version, long generation, Instant cutoff, Set<String> partitions,
                              Instant writtenAt, Instant replacedAt) {

    /** A generation as its run records it: not replaced. */
    public BatchGeneration(String view, String version, long generation, Instant cutoff, Set<String> partitions, Instant writtenAt) {
        this(view, version, generation, cutoff, partitions, writtenAt, null);
    }

    public BatchGeneration {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(cutoff, "cutoff");
        Objects.requireNonNull(writtenAt, "writtenAt");
        partitions = Set.copyOf(partitions);
    }

    public static String partition(Granularity level, Instant period) {
        return level.id() + "/" + period.toEpochMilli();
    }

    public static Granularity levelOf(String partition) {
        return Granularity.fromId(partition.substring(0, partition.indexOf('/')));
    }

    public static Instant periodOf(String partition) {
        return Instant.ofEpochMilli(Long.parseLong(partition.substring(partition.indexOf('/') + 1)));
    }

    /** Partitions in a stable order, for logs and tests. */
    public Set<String> sortedPartitions() {
        return new TreeSet<>(partitions);
    }
}
