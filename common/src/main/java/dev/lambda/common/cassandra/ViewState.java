package dev.lambda.common.cassandra;

import java.time.Instant;
import java.util.Objects;

/**
 * A row of {@code view_state}: the batch generation published for one view version and how it was
 * built. Readers take the rows of {@link #generation()} and the speed rows with slot at or after
 * {@link #cutoff()}, unless the version is {@linkplain #retired() retired}: another version of the
 * view replaced it longer than the batch's grace ago and its generations are dropped, so nothing
 * answers from it any more (a reader still on the old views file is told so, instead of answering
 * from what is left).
 *
 * @param previousGeneration the generation this one replaced, or {@code null} for the first
 * @param versionSince       when this view version was first published (its answers have come from the
 *                           batch since then), or {@code null} if unknown (a row of an older release)
 * @param replacedBy         the version that retired this one, or {@code null} while it is current
 * @param retiredAt          when it was retired, or {@code null} while it is current
 */
public record ViewState(String view, String version, long generation, Instant cutoff, Instant builtAt,
                        Instant publishedAt, long eventsIn, long duplicatesDropped, long rowsWritten,
                        long durationMs, Long previousGeneration, Instant versionSince, String replacedBy, Instant retiredAt) {

    public ViewState {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(cutoff, "cutoff");
        Objects.requireNonNull(builtAt, "builtAt");
        Objects.requireNonNull(publishedAt, "publishedAt");
        if ((replacedBy == null) != (retiredAt == null)) {
            throw new IllegalArgumentException("a retired state names both the version that replaced it and when");
        }
    }

    /** A state that is not retired. */
    public ViewState(String view, String version, long generation, Instant cutoff, Instant builtAt, Instant publishedAt, long eventsIn,
                     long duplicatesDropped, long rowsWritten, long durationMs, Long previousGeneration, Instant versionSince) {
        this(view, version, generation, cutoff, builtAt, publishedAt, eventsIn, duplicatesDropped, rowsWritten, durationMs,
                previousGeneration, versionSince, null, null);
    }

    public boolean retired() {
        return retiredAt != null;
    }

    /** This state as retired by {@code version} at {@code at}. */
    public ViewState retiredBy(String version, Instant at) {
        return new ViewState(view, this.version, generation, cutoff, builtAt, publishedAt, eventsIn, duplicatesDropped, rowsWritten,
                durationMs, previousGeneration, versionSince, Objects.requireNonNull(version, "version"), Objects.requireNonNull(at, "at"));
    }
}
