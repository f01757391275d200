package dev.lambda.batch.recompute;

import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.time.IngestSlots;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Chooses the cutoff T of a recompute (DESIGN §4): everything ingested before T must already be in
 * the master dataset, so T is derived from when the last ingest started, never from "now". An
 * explicit cutoff is held to the same bound: it may lie before the derived one, never after it.
 */
public final class CutoffChoice {

    private CutoffChoice() {
    }

    /**
     * @param explicit        {@code --cutoff}, if given
     * @param lastIngestStart when the last successful ingest started, if any
     * @param now             the time of the run: with no ingest at all, an explicit cutoff must not be later
     *                        than the one an ingest starting now would get
     */
    public static Instant choose(Optional<Instant> explicit, Optional<Instant> lastIngestStart, IngestSlots slots, Duration margin,
                                 Instant now) {
        if (explicit.isEmpty()) {
            return slots.cutoff(lastIngestStart.orElseThrow(() -> new IllegalArgumentException(
                    "no ingest has run on this master dataset yet: run ingest (or give --cutoff explicitly)")), margin);
        }
        Instant t = explicit.get();
        if (lastIngestStart.isPresent()) {
            Instant latest = slots.cutoff(lastIngestStart.get(), margin);
            if (t.isAfter(latest)) {
                throw new IllegalArgumentException("cutoff " + t + " is after " + latest + ", the latest the last ingest (started "
                        + lastIngestStart.get() + ") allows with --safety-margin " + margin + ": events ingested in between may not be"
                        + " in the master dataset yet; run ingest first");
            }
        } else if (t.isAfter(slots.cutoff(now, margin))) {
            throw new IllegalArgumentException("cutoff " + t + " is after " + slots.cutoff(now, margin) + ", the latest an ingest"
                    + " starting now could give (--safety-margin " + margin + "): events after it do not exist yet, and the speed"
                    + " layer's rows before it would not be read");
        }
        return t;
    }

    /**
     * Refuses a cutoff that is not a slot boundary of every speed-layer application recorded in the
     * keyspace: readers take speed rows of slots at or after T, so the slot T falls inside would be
     * in neither layer's answer (its events after T lost until a later batch). Every partition's
     * record counts: one that sat idle since its application changed width still has rows of the old.
     */
    public static void requireSpeedSlotBoundary(Instant cutoff, List<SpeedPartitionStatus> speed) {
        Map<String, Map<Duration, List<Integer>>> widths = new TreeMap<>(); // application -> width -> its partitions
        for (SpeedPartitionStatus s : speed) {
            if (s.slotWidth() != null && !new IngestSlots(s.slotWidth()).isBoundary(cutoff)) {
                widths.computeIfAbsent(s.applicationId(), a -> new TreeMap<>())
                        .computeIfAbsent(s.slotWidth(), w -> new ArrayList<>()).add(s.partition());
            }
        }
        widths.forEach((application, byWidth) -> byWidth.forEach((width, partitions) -> {
            throw new IllegalStateException("cutoff " + cutoff + " is not a slot boundary of speed-layer application " + application
                    + ", whose slots are " + width + " wide (as recorded for its partitions " + partitions + "): the speed rows of the"
                    + " slot it falls in would not be read. Choose a cutoff on a " + width + " boundary (the batch's --slot-width a"
                    + " multiple of " + width + ", or such a --cutoff); if that application no longer runs, delete its rows from"
                    + " speed_partitions");
        }));
    }
}
