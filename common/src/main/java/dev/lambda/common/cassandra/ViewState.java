package dev.lambda.common.cassandra;

import java.time.Instant;
import java.util.Objects;

/**
 * A row of {@code view_state}: the batch generation published for one view version and how it was
 * built. Readers take the rows of {@link #generation()} and the speed rows with slot at or after
 * {@link #cutoff()}.
 *
 * @param previousGeneration the generation this one replaced, or {@code null} for the first
 * @param versionSince       when this view version was first published (its answers have come from the
 *                           batch since then), or {@code null} if unknown (a row of an older release)
 */
public record ViewState(String view, String version, long generation, Instant cutoff, Instant builtAt,
                        Instant publishedAt, long eventsIn, long duplicatesDropped, long rowsWritten,
                        long durationMs, Long previousGeneration, Instant versionSince) {

    public ViewState {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(cutoff, "cutoff");
        Objects.requireNonNull(builtAt, "builtAt");
        Objects.requireNonNull(publishedAt, "publishedAt");
    }
}
