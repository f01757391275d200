package dev.lambda.batch.recompute;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import dev.lambda.common.cassandra.BatchGeneration;
import dev.lambda.common.cassandra.BatchGenerationsTable;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.view.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops what readers no longer need, with partition deletes: generations other than the published
 * one and the one it replaced, once another was published over them longer than the grace period
 * ago (DESIGN §6), or, never published, once their record is older than the grace (no run is still
 * writing them); and a view's old versions: once the current version was first published longer
 * than the grace period ago (serving instances still on the old views file keep their answers
 * while they are switched over), an old version's state is marked retired, so those still on it
 * answer that it is gone rather than from what is left, and its generations go once it has been
 * retired for the grace period (an instance that read the state just before it was retired
 * answers from them until it reads it again), as do generations older than the grace period of
 * versions that have no state.
 */
public final class GenerationCleanup {

    private static final Logger LOG = LoggerFactory.getLogger(GenerationCleanup.class);

    private final BatchGenerationsTable generations;
    private final BatchRowsTable rows;
    private final ViewStateTable states;
    private final Duration grace;

    public GenerationCleanup(BatchGenerationsTable generations, BatchRowsTable rows, ViewStateTable states, Duration grace) {
        this.generations = generations;
        this.rows = rows;
        this.states = states;
        this.grace = grace;
    }

    /**
     * Generations are dropped as of one renewal interval ago ({@link GenerationLease#interval}), the
     * margin for the hosts' clocks: a run that records a generation of the same id again after this
     * cleanup listed it (the same cutoff over the same events), or a run of an old views file that
     * publishes its version again after this cleanup removed its state, writes its rows later, so
     * they stay. A generation whose record is older than the grace has its rows written by then
     * unless the run that wrote them lost its record; such a run records it once more after its
     * rows (best effort), later than all of them, so a later cleanup finds whatever stayed.
     *
     * @return how many generations were dropped
     */
    public int clean(ViewDefinition view, ViewState published, ConsistencyLevel consistency, Instant now) {
        Instant graceStart = now.minus(grace);
        Instant asOf = now.minus(GenerationLease.interval(grace));
        int dropped = 0;
        for (BatchGeneration g : generations.list(view.name(), view.version()).toCompletableFuture().join()) {
            boolean kept = g.generation() == published.generation()
                    || (published.previousGeneration() != null && g.generation() == published.previousGeneration());
            boolean outOfUseLongEnough = g.replacedAt() == null || g.replacedAt().isBefore(graceStart);
            if (!kept && outOfUseLongEnough && g.writtenAt().isBefore(graceStart)) {
                drop(g, asOf, consistency);
                dropped++;
            }
        }
        if (published.versionSince() == null || !published.versionSince().isBefore(graceStart)) {
            return dropped;
        }
        for (ViewState old : states.findAll(view.name(), consistency).toCompletableFuture().join()) {
            if (!old.version().equals(view.version()) && !old.retired()) {
                retireOldVersion(view, old, consistency, now);
            }
        }
        for (String version : generations.versions(view.name()).toCompletableFuture().join()) {
            if (!version.equals(view.version())) {
                dropped += dropWithoutState(view, version, consistency, graceStart, asOf);
            }
        }
        return dropped;
    }

    /**
     * Retires the state, only as read: a version published again meanwhile (by a run of another
     * views file) keeps its state and the rows it answers from. Its generations stay for the grace
     * after that ({@link #dropWithoutState}): a serving instance on the old views file that read the
     * state just before answers from them until it reads the state again, and a run that read the
     * state before it was retired is refused its publish.
     */
    private void retireOldVersion(ViewDefinition view, ViewState old, ConsistencyLevel consistency, Instant now) {
        if (!states.retire(old, view.version(), now, consistency).toCompletableFuture().join()) {
            LOG.warn("old version {} of view {} was published again, or retired, by another run while this run cleaned up; a later"
                    + " run's cleanup takes it from there", old.version(), view.name());
            return;
        }
        LOG.info("retired old version {} of view {}; its generations go once it has been retired for the grace", old.version(),
                view.name());
    }

    /**
     * Generations, older than the grace period, of a version that has no current state: one whose
     * runs all failed or were refused, or one retired longer than the grace period ago. A version of
     * a newer views file whose first generation is being written, or of an older one whose
     * retirement is being rolled back, has none that old: the writing run renews its record
     * ({@link GenerationLease}); the state is read again right before, so one just published is
     * left alone.
     */
    private int dropWithoutState(ViewDefinition view, String version, ConsistencyLevel consistency, Instant graceStart,
                                 Instant asOf) {
        boolean inUse = states.findAll(view.name(), consistency).toCompletableFuture().join().stream()
                .anyMatch(s -> s.version().equals(version) && (!s.retired() || s.retiredAt().isAfter(graceStart)));
        if (inUse) {
            return 0;
        }
        int dropped = 0;
        for (BatchGeneration g : generations.list(view.name(), version).toCompletableFuture().join()) {
            if (g.writtenAt().isBefore(graceStart)) {
                drop(g, asOf, consistency);
                dropped++;
            }
        }
        return dropped;
    }

    /** Deletes a generation's rows written no later than {@code asOf}, then forgets it if not recorded again since. */
    private void drop(BatchGeneration g, Instant asOf, ConsistencyLevel consistency) {
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        for (String p : g.partitions()) {
            deletes.add(rows.deletePartition(g.view(), g.version(), g.generation(), BatchGeneration.levelOf(p),
                    BatchGeneration.periodOf(p), asOf).toCompletableFuture());
        }
        CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
        generations.forget(g.view(), g.version(), g.generation(), asOf, consistency).toCompletableFuture().join();
        LOG.info("dropped generation {} of {}/{} ({} partitions)", g.generation(), g.view(), g.version(), g.partitions().size());
    }
}
