package dev.lambda.batch.recompute;

import dev.lambda.common.time.IngestSlots;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Chooses the cutoff T of a recompute (DESIGN §4): everything ingested before T must already be in
 * the master dataset, so T is derived from when the last ingest started, never from "now".
 */
public final class CutoffChoice {

    private CutoffChoice() {
    }

    /**
     * @param explicit        {@code --cutoff}, if given
     * @param lastIngestStart when the last successful ingest started, if any
     */
    public static Instant choose(Optional<Instant> explicit, Optional<Instant> lastIngestStart, IngestSlots slots, Duration margin) {
        if (explicit.isPresent()) {
            Instant t = explicit.get();
            if (lastIngestStart.isPresent() && t.isAfter(lastIngestStart.get())) {
                throw new IllegalArgumentException("cutoff " + t + " is after the last ingest started (" + lastIngestStart.get()
                        + "): events ingested in between are not in the master dataset yet; run ingest first");
            }
            return t;
        }
        return slots.cutoff(lastIngestStart.orElseThrow(() -> new IllegalArgumentException(
                "no ingest has run on this master dataset yet: run ingest (or give --cutoff explicitly)")), margin);
    }
}
