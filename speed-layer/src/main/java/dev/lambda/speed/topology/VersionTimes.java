package dev.lambda.speed.topology;

import dev.lambda.speed.sink.SpeedRowSink;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * What one task reports of the view versions it runs (README "How the batch knows"): each version
 * of the views file with a time no record left out of the partition's rows of it was ingested
 * after. The batch publishes a version only at a cutoff past that time on every partition.
 *
 * <p>The times live in the partition's stats store, so they stay the same across restarts and
 * owners. A version new to the partition starts at a bound on the ingest of every record the
 * restored state reflects, which the store keeps too, raised with the record that passes it (one
 * put per second of ingest time). Created anew as each task starts; not thread-safe.
 */
final class VersionTimes {

    private static final String SINCE_KEY = "version-since:";
    private static final String INGEST_BOUND_KEY = "ingest-bound";
    /** How far past a record's ingest time the stored bound is set: one put per second of ingest time. */
    private static final long INGEST_BOUND_STEP_MS = 1_000;
    private static final Duration RECORD_EVERY = Duration.ofSeconds(10);

    private final KeyValueStore<String, Long> stats;
    /** Every view version of this process's views file ({@code ViewDefinition#versionKey}). */
    private final List<String> keys;
    /** The versions the stats store names, each with its since (ms): as restored, then as saved. */
    private final Map<String, Long> stored = new HashMap<>();
    /**
     * Each version of {@link #keys} with its time; filled as the task starts, or at its first record
     * when only that tells the time.
     */
    private final Map<String, Instant> since = new TreeMap<>();
    /** Whether {@link #since} has entries the stats store does not have yet (or the store entries it lacks). */
    private boolean unsaved;
    /** When the sink was last told {@link #since} (wall clock, ms); 0 before. */
    private long recordedAt;
    /**
     * No record this partition's stored state reflects was ingested after this (ms);
     * {@link Long#MIN_VALUE} if not stored (no record yet, or a store of a release before it).
     */
    private long ingestBound = Long.MIN_VALUE;

    VersionTimes(KeyValueStore<String, Long> stats, List<String> keys) {
        this.stats = stats;
        this.keys = List.copyOf(keys);
    }

    /** Takes one stats-store entry as the task restores them, if it is one of these. */
    void restore(String key, long value) {
        if (key.equals(INGEST_BOUND_KEY)) {
            ingestBound = value;
        } else if (key.startsWith(SINCE_KEY)) {
            stored.put(key.substring(SINCE_KEY.length()), value);
        }
    }

    /**
     * After the restore: with a stored ingest bound the times are known before any record (every
     * record before the task's first was ingested no later than it).
     */
    void restored() {
        if (ingestBound != Long.MIN_VALUE) {
            resolve(ingestBound);
        }
    }

    /**
     * Before the task processes a record ingested at {@code ingest}: takes the times from
     * {@code firstRecordSince} if the store told none ({@link #sinceFirstRecord}), saves them with
     * the record, and raises the stored ingest bound past it.
     */
    void beforeRecord(long ingest, long firstRecordSince) {
        if (since.isEmpty() && !keys.isEmpty()) {
            resolve(firstRecordSince);
        }
        if (unsaved) {
            save();
        }
        if (ingest > ingestBound) {
            ingestBound = ingest + INGEST_BOUND_STEP_MS;
            stats.put(INGEST_BOUND_KEY, ingestBound);
        }
    }

    /**
     * The time a task's first record gives when its store does not tell one: at the partition's
     * first offset, processed by no earlier owner, none was left out ({@link Instant#EPOCH});
     * otherwise every record before it was ingested no later than it, or than the newest ingest the
     * restored aggregates hold (the broker stamps them, LogAppendTime, and a clock stepping back is
     * bounded by the latter).
     *
     * @param firstOwner whether no earlier owner processed a record of the partition
     */
    static long sinceFirstRecord(long offset, boolean firstOwner, long ingest, long newestKnownIngest) {
        return offset == 0 && firstOwner ? Instant.EPOCH.toEpochMilli() : Math.max(ingest, newestKnownIngest);
    }

    /**
     * For each version, a time: one the stats store names keeps its time; another one starts at
     * {@code sinceMillis}. A version the file no longer has is forgotten at the next save, so going
     * back to it later starts it again.
     */
    private void resolve(long sinceMillis) {
        for (String key : keys) {
            Long time = stored.get(key);
            since.put(key, Instant.ofEpochMilli(time != null ? time : sinceMillis));
        }
        unsaved = true;
    }

    private void save() {
        since.forEach((key, time) -> {
            if (stored.putIfAbsent(key, time.toEpochMilli()) == null) {
                stats.put(SINCE_KEY + key, time.toEpochMilli());
            }
        });
        forgetDropped();
        unsaved = false;
    }

    /**
     * Forgets the times of versions the views file no longer has, with their aggregates (which a
     * flush drops from the store, a record processed or not): coming back, such a version starts
     * again, its earlier rows of open slots being rewritten from what comes after.
     */
    void forgetDropped() {
        stored.keySet().removeIf(key -> {
            boolean dropped = !keys.contains(key);
            if (dropped) {
                stats.delete(SINCE_KEY + key);
            }
            return dropped;
        });
    }

    /**
     * Tells the sink the versions as soon as they are known, and again every {@link #RECORD_EVERY}:
     * a record lost, or replaced by an owner that lost the partition or whose clock runs ahead, is
     * put right within that time.
     */
    void record(SpeedRowSink sink, int partition, long now) throws InterruptedException {
        if (since.isEmpty() || now - recordedAt < RECORD_EVERY.toMillis()) {
            return;
        }
        if (sink.recordViewVersions(partition, since)) {
            recordedAt = now;
        }
    }
}
