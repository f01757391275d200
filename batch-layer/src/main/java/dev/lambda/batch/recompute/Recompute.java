package dev.lambda.batch.recompute;

import static org.apache.spark.sql.functions.col;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.batch.Progress;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.config.WriteConsistency;
import dev.lambda.batch.ingest.EnvelopeColumns;
import dev.lambda.batch.ingest.MasterDataset;
import dev.lambda.batch.store.GenerationWriter;
import dev.lambda.common.cassandra.BatchGeneration;
import dev.lambda.common.cassandra.BatchGenerationsTable;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.kafka.EventsTopic;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code recompute}: every view from the whole master dataset, as a new generation (DESIGN §4, §7).
 * Keeps valid events ingested before the cutoff T, applies the duplicate rule, aggregates every view
 * at every level, records the generation, writes its rows, publishes it with one conditional write
 * to {@code view_state}, then drops generations readers no longer need. The generation id is derived
 * from T and the events it is computed from ({@link #generationId}): re-running with the same cutoff
 * over the same events rewrites the same generation with the same rows, while a re-run whose events
 * changed (a parser fix parsing the history again) writes a new generation beside the published one,
 * which readers (and their caches) take as never changing.
 */
public final class Recompute {

    private final SparkSession spark;
    private final BatchConfig config;
    private final ViewCatalog views;
    private final CqlSession session;
    private final Publisher publisher;
    private final Progress progress;
    private final ViewStateTable states;
    private final BatchGenerationsTable generations;
    private final GenerationCleanup cleanup;

    public Recompute(SparkSession spark, BatchConfig config, ViewCatalog views, CqlSession session, Publisher publisher, Progress progress) {
        this.spark = spark;
        this.config = config;
        this.views = views;
        this.session = session;
        this.publisher = publisher;
        this.progress = progress;
        String keyspace = config.cassandra().keyspace();
        this.states = new ViewStateTable(session, keyspace);
        this.generations = new BatchGenerationsTable(session, keyspace);
        this.cleanup = new GenerationCleanup(generations, new BatchRowsTable(session, keyspace), states, config.grace());
    }

    /** The columns aggregation needs: the raw value and reject details stay out of the shuffle. */
    private static final String[] EVENT_COLUMNS = {"event_id", "event_type", "event_ts", "attrs", "ingest_ts", "kafka_partition",
        "kafka_offset"};

    /** The validated, deduplicated events a generation with cutoff T is computed from. */
    public static Dataset<Row> eventsBefore(Dataset<Row> master, Instant cutoff) {
        return Dedup.earliestPerId(validBefore(master, cutoff));
    }

    private static Dataset<Row> validBefore(Dataset<Row> master, Instant cutoff) {
        return master.filter(col("valid").equalTo(true).and(col("ingest_ts").lt(Timestamp.from(cutoff))))
                .select(java.util.Arrays.stream(EVENT_COLUMNS).map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new));
    }

    /**
     * Since when this view version has been published without a break: carried from its current
     * state, unless another version of the view was published after it or retired it (a change
     * rolled back counts from now again). A state of an older release has no such time: its last
     * publish is the best bound known.
     */
    static Instant versionSince(Optional<ViewState> current, List<ViewState> allVersions, Instant now) {
        if (current.isEmpty() || current.get().retired()) {
            return now;
        }
        ViewState c = current.get();
        boolean replacedSince = allVersions.stream()
                .anyMatch(s -> !s.version().equals(c.version()) && s.publishedAt().isAfter(c.publishedAt()));
        if (replacedSince) {
            return now;
        }
        return c.versionSince() != null ? c.versionSince() : c.publishedAt();
    }

    /**
     * The version of how this release computes and encodes a generation's rows from its events: raise
     * it with every such change, so a re-run of a published cutoff after the change writes a new
     * generation instead of rewriting that one.
     */
    static final int ROWS_VERSION = 2; // 2: sketches stored as HLL_4

    /**
     * A generation's id: T, the fingerprint of the deduplicated events it is computed from and
     * {@link #ROWS_VERSION}, mixed into 53 bits (an exact number in every JSON reader). The same
     * cutoff over the same events gives the same id; other events give another id but for a chance
     * of about 2^-53. The id is opaque: the cutoff is recorded beside it.
     */
    static long generationId(Instant cutoff, long eventsFingerprint) {
        long h = (cutoff.toEpochMilli() * 31 + ROWS_VERSION) * 0x9E3779B97F4A7C15L + eventsFingerprint;
        h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL; // MurmurHash3's 64-bit finalizer
        h = (h ^ (h >>> 33)) * 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h & ((1L << 53) - 1);
    }

    /** The level of this run's row writes and publish ({@code --write-consistency}), told on the progress lines. */
    private ConsistencyLevel writeConsistency() {
        String keyspace = config.cassandra().keyspace();
        Optional<Map<String, String>> replication = session.getMetadata().getKeyspace(keyspace).map(k -> k.getReplication());
        if (replication.isEmpty() && config.writeConsistency() == WriteConsistency.AUTO) {
            throw new IllegalStateException("the Cassandra driver has no metadata of keyspace " + keyspace + " (schema metadata"
                    + " turned off in its configuration?), so --write-consistency auto cannot tell its datacenters: give the level");
        }
        ConsistencyLevel level = config.writeConsistency().levelFor(replication.orElse(Map.of()));
        progress.line("consistency", 0, "rows and publish written at " + level.name() + " (--write-consistency "
                + config.writeConsistency().name().toLowerCase(Locale.ROOT) + ")");
        return level;
    }

    /**
     * After a refused publish, the state another run published since this one started. If it is this
     * run's generation (the same cutoff over the same events), this run's rows are the published ones
     * and the run goes on. Otherwise the run fails; its generation stays recorded as of its last
     * renewal, after its rows, and a later run's cleanup drops it after the grace period, unless some
     * run published it meanwhile (the same id).
     */
    private ViewState publishedMeanwhile(BatchGeneration ours, Optional<ViewState> atStart, ConsistencyLevel consistency) {
        Optional<ViewState> found = states.findAll(ours.view(), consistency).toCompletableFuture().join().stream()
                .filter(s -> s.version().equals(ours.version())).findFirst();
        if (found.isPresent() && !found.get().retired() && found.get().generation() == ours.generation()) {
            return found.get();
        }
        String now = found.map(s -> s.retired()
                ? "was retired at " + s.retiredAt() + " by a run whose views file has version " + s.replacedBy() + " of it"
                : "was published by another recompute: it now answers from generation " + s.generation() + " (cutoff " + s.cutoff()
                        + ", published " + s.publishedAt() + ")").orElse("lost its state");
        throw new IllegalStateException("view " + ours.view() + " (version " + ours.version() + ") " + now + " since this run started,"
                + " when it read " + atStart.map(s -> (s.retired() ? "retired generation " : "generation ") + s.generation())
                        .orElse("no state") + ". This run's generation " + ours.generation() + " (cutoff " + ours.cutoff() + ") is not"
                + " published, and a later run's cleanup drops it after --grace; views this run published before stay published. Run"
                + " one recompute at a time, all with the same views file (README, Schedule)");
    }

    /** @param ingestStart when this run's ingest started, or empty to use the master dataset's record of it */
    public Instant run(Optional<Instant> ingestStart) {
        long started = System.currentTimeMillis();
        MasterDataset master = new MasterDataset(config.master());
        Optional<Instant> lastIngest = ingestStart.isPresent() ? ingestStart : master.lastIngestStart(spark);
        Instant derived = CutoffChoice.choose(Optional.ofNullable(config.cutoff()), lastIngest, config.slots(), config.safetyMargin(),
                Instant.now());
        Map<String, Instant> imports = new TreeMap<>();
        Instant now = Instant.now();
        boolean removable = master.renamesAtomically(spark);
        for (MasterDataset.ImportUnderWay underWay : master.importsUnderWay(spark)) {
            boolean abandoned = CutoffChoice.abandoned(underWay, now);
            if (abandoned && !removable) {
                progress.line("import", 0, underWay.folder() + ", an import started at " + underWay.start() + ", has shown no sign of life"
                        + " since " + underWay.lastSignOfLife().orElseThrow() + ": this file system does not rename a folder atomically,"
                        + " so it is not removed here; remove it by hand once sure it is not running, then run that import again");
            }
            MasterDataset.Removal removal = abandoned && removable ? master.removeAbandonedImport(spark, underWay) : null;
            if (removal == MasterDataset.Removal.REMOVED) {
                progress.line("import", 0, "removed " + underWay.folder() + ", an import started at " + underWay.start() + " that has"
                        + " shown no sign of life since " + underWay.lastSignOfLife().orElseThrow() + ": taken for killed, it holds the"
                        + " cutoff back no longer; nothing of it was in the master dataset, so run that import again");
            } else if (removal != MasterDataset.Removal.GONE) { // published or removed meanwhile: nothing left to wait for
                imports.put(underWay.folder(), underWay.start());
            }
        }
        Instant cutoff = CutoffChoice.beforeImportsUnderWay(derived, config.cutoff() != null, imports, config.slots());
        progress.line("cutoff", 0, "T = " + cutoff + (cutoff.equals(derived) ? ""
                : " (not " + derived + ": held at or before the start of the imports under way " + imports + ")"));
        ConsistencyLevel consistency = writeConsistency();
        // read before anything is computed: a view is published only if no other run published it since
        // (a later cutoff, perhaps, whose cleanup may also drop this run's rows)
        Map<String, List<ViewState>> statesAtStart = new HashMap<>();
        for (ViewDefinition view : views.views()) {
            statesAtStart.put(view.name(), states.findAll(view.name(), consistency).toCompletableFuture().join());
        }
        List<ViewDefinition> forward = views.views().stream().filter(v -> movesForward(v, statesAtStart.get(v.name()), cutoff)).toList();
        if (forward.isEmpty()) {
            return cutoff;
        }
        List<SpeedPartitionStatus> speed = new SpeedPartitionsTable(session, config.cassandra().keyspace()).readAll()
                .toCompletableFuture().join();
        try {
            CutoffChoice.requireSpeedAgreement(cutoff, lastIngest.isPresent(), speed, Instant.now());
        } catch (IllegalStateException e) {
            if (cutoff.equals(derived)) {
                throw e;
            }
            throw new IllegalStateException(e.getMessage() + ". The cutoff was held back from " + derived + " to " + cutoff + " by the"
                    + " imports under way " + imports + " (one killed is removed once it has shown no sign of life for "
                    + MasterDataset.ABANDONED_AFTER.toMinutes() + " min)", e);
        }
        if (lastIngest.isEmpty()) {
            // an explicit cutoff before any ingest: records Kafka already holds before it would be in neither layer's answer
            List<Integer> unarchived;
            try {
                unarchived = EventsTopic.partitionsWithRecordsBefore(config.kafka(), config.topic(), cutoff);
            } catch (IllegalStateException e) {
                throw new IllegalStateException("no ingest has run on this master dataset, so a recompute with --cutoff asks Kafka first"
                        + " whether topic " + config.topic() + " holds records before the cutoff (they would be in neither layer's"
                        + " answer), and Kafka did not answer: make it reachable (--bootstrap), or run ingest first. " + e.getMessage(), e);
            }
            CutoffChoice.requireNothingUnarchivedBefore(cutoff, unarchived, config.topic());
        }
        List<ViewDefinition> toPublish = forward.stream().filter(v -> speedHoldsEverythingFrom(cutoff, v, speed)).toList();
        if (toPublish.isEmpty()) {
            return cutoff;
        }

        // records archived under another parser version are read as this release's parser reads them
        Dataset<Row> archived = EnvelopeColumns.current(master.read(spark), config.futureTolerance());
        Dataset<Row> events = eventsBefore(archived, cutoff).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Dedup.Counts counts = Dedup.counts(events); // one pass, which also fills the cache
            progress.line("dedup", counts.kept(), "events counted of " + counts.valid() + " ingested before T (" + counts.duplicates()
                    + " duplicates)");
            Computed computed = new Computed(cutoff, generationId(cutoff, counts.fingerprint()), events, counts, consistency, started);
            progress.line("generation", 0, "id " + computed.generation() + " (of T and the fingerprint of these events)");
            for (ViewDefinition view : toPublish) {
                writeAndPublish(view, statesAtStart.get(view.name()), computed);
            }
        } finally {
            events.unpersist();
        }
        return cutoff;
    }

    /** What every view's rows of this run's generation are computed from. */
    private record Computed(Instant cutoff, long generation, Dataset<Row> events, Dedup.Counts counts, ConsistencyLevel consistency,
                            long startedMillis) {
    }

    private static Optional<ViewState> stateOf(ViewDefinition view, List<ViewState> versions) {
        return versions.stream().filter(s -> s.version().equals(view.version())).findFirst();
    }

    /**
     * Whether publishing this run's cutoff moves the view forward. A derived cutoff before the
     * published one (a run with a smaller --safety-margin or --slot-width published it) has fewer
     * events to offer: the view is left as it is.
     */
    private boolean movesForward(ViewDefinition view, List<ViewState> versions, Instant cutoff) {
        Optional<ViewState> current = stateOf(view, versions);
        if (current.isPresent() && current.get().retired()) {
            progress.line("retired", 0, view.name() + " version " + view.version() + " was retired at " + current.get().retiredAt()
                    + " by a run with version " + current.get().replacedBy() + " of it: publishing it makes it current again, as a"
                    + " roll-back to this definition does, once the speed layer has run it since before the cutoff");
            return true;
        }
        if (config.cutoff() == null && current.isPresent() && current.get().cutoff().isAfter(cutoff)) {
            progress.line("skip", 0, view.name() + " already answers from a later cutoff, " + current.get().cutoff()
                    + ": left as it is (--cutoff publishes an earlier one on purpose)");
            return false;
        }
        return true;
    }

    /**
     * Whether the speed layer's rows of the view's version hold every record from the cutoff on, as
     * readers of a generation with that cutoff take them. Not yet after the view changed (or changed
     * back): the view is left as it is, and a later run whose cutoff is past the speed layer's
     * restart publishes it.
     */
    private boolean speedHoldsEverythingFrom(Instant cutoff, ViewDefinition view, List<SpeedPartitionStatus> speed) {
        Optional<String> gap = CutoffChoice.speedGap(view.versionKey(), cutoff, speed);
        gap.ifPresent(why -> progress.line("skip", 0, view.name() + " version " + view.version() + " is not published at cutoff "
                + cutoff + ": its speed rows from the cutoff on would lack records, since " + why + ". A run whose cutoff is past the"
                + " time the speed layer started it publishes it; one it does not run needs the speed layer on this views file"
                + " (README, Changing a view)"));
        return gap.isEmpty();
    }

    /**
     * The generation id a view's rows get: the run's, unless the view's state is retired. A retired
     * version's generations were dropped, perhaps while a reader read and cached some of their rows,
     * and readers take a published id as never changing: publishing the version again (a roll-back)
     * takes an id of its own, derived from the run's and the retirement's time.
     */
    static long generationFor(Optional<ViewState> current, long runGeneration) {
        return current.filter(ViewState::retired).map(s -> generationId(s.retiredAt(), runGeneration)).orElse(runGeneration);
    }

    /**
     * Writes a view's rows of this run's generation, publishes them over the state read at the
     * run's start, then drops generations readers no longer need.
     */
    private void writeAndPublish(ViewDefinition view, List<ViewState> versionsAtStart, Computed c) {
        Optional<ViewState> current = stateOf(view, versionsAtStart);
        long generation = generationFor(current, c.generation());
        BatchGeneration written = new BatchGeneration(view.name(), view.version(), generation, c.cutoff(),
                GenerationWriter.partitionsOf(c.events(), view), Instant.now());
        ViewState state;
        // recorded before a row is written, and renewed until published: a run that dies while writing leaves a
        // generation the cleanup of a later run finds and drops, not rows nobody knows of; a live one keeps its
        // record fresh, so no other run's cleanup takes it for abandoned
        try (GenerationLease lease = GenerationLease.hold(at -> generations.record(recordedAt(written, at), c.consistency()),
                config.grace(), view.name() + "/" + generation)) {
            Map<String, Long> rowsByPartition = GenerationWriter.write(ViewAggregation.aggregate(c.events(), view), view,
                    generation, config.cassandra(), config.maxInFlightWrites(), c.consistency().name());
            long rows = rowsByPartition.values().stream().mapToLong(Long::longValue).sum();
            Instant computedAt = Instant.now();
            progress.line("write", rows, "rows of " + view.name() + " in " + rowsByPartition.size() + " partitions");

            // a retired state's generations go a grace after its retirement: none is kept as the previous one
            Long previous = current.filter(s -> !s.retired())
                    .map(s -> s.generation() == generation ? s.previousGeneration() : Long.valueOf(s.generation())).orElse(null);
            Instant publishedAt = Instant.now();
            state = new ViewState(view.name(), view.version(), generation, c.cutoff(), computedAt, publishedAt,
                    c.counts().valid(), c.counts().duplicates(), rows, System.currentTimeMillis() - c.startedMillis(), previous,
                    versionSince(current, versionsAtStart, publishedAt));
            lease.requireHeld();
            // the generation readers leave is marked first, so a run that dies between the two leaves it marked: its
            // grace (DESIGN §6) runs from this publish, less the moments between the two writes
            Optional<ViewState> replaced = current.filter(s -> !s.retired() && s.generation() != generation);
            if (replaced.isPresent()) {
                generations.markReplaced(view.name(), view.version(), replaced.get().generation(), publishedAt, c.consistency())
                        .toCompletableFuture().join();
            }
            if (publisher.publish(state, current.orElse(null), c.consistency())) {
                progress.line("publish", rows, view.name() + " now answers from generation " + generation);
            } else {
                state = publishedMeanwhile(written, current, c.consistency());
                progress.line("publish", rows, view.name() + " answers from generation " + generation
                        + ", which another run of the same cutoff published meanwhile");
            }
        }
        int dropped = cleanup.clean(view, state, c.consistency(), Instant.now());
        if (dropped > 0) {
            progress.line("cleanup", dropped, "old generations of " + view.name() + " dropped");
        }
    }

    private static BatchGeneration recordedAt(BatchGeneration g, Instant writtenAt) {
        return new BatchGeneration(g.view(), g.version(), g.generation(), g.cutoff(), g.partitions(), writtenAt);
    }
}
