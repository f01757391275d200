package dev.lambda.common.time;

import java.time.Duration;
import java.time.Instant;

/**
 * Ingest-time slots (DESIGN §4): the Kafka record timestamp (LogAppendTime) truncated to the slot
 * width. Slots partition ingest time, so a cutoff on a slot boundary splits every event between
 * the batch generation (ingested before the cutoff) and the speed layer (at or after it).
 *
 * @param width slot width; production uses 1 hour, the demo 1 minute
 */
public record IngestSlots(Duration width) {

    /** The widest slot there can be: a width divides a day. */
    public static final Duration WIDEST = Duration.ofDays(1);

    public IngestSlots {
        if (width == null || width.isNegative() || width.toMillis() < 1000) {
            throw new IllegalArgumentException("slot width must be at least 1 second, got " + width);
        }
        if (WIDEST.toMillis() % width.toMillis() != 0) {
            throw new IllegalArgumentException("slot width must divide a day evenly, got " + width);
        }
    }

    /** The slot of a Kafka record timestamp (epoch millis). */
    public Instant slotOf(long ingestEpochMillis) {
        return Instant.ofEpochMilli(Math.floorDiv(ingestEpochMillis, width.toMillis()) * width.toMillis());
    }

    /** The slot boundary at or before {@code time}. */
    public Instant floor(Instant time) {
        return slotOf(time.toEpochMilli());
    }

    /** Whether {@code time} lies exactly on a slot boundary. */
    public boolean isBoundary(Instant time) {
        return floor(time).equals(time);
    }

    /**
     * The cutoff T of a batch run that ingested Kafka up to the end offsets seen at {@code start}:
     * the slot boundary at or before {@code start - safetyMargin}.
     */
    public Instant cutoff(Instant start, Duration safetyMargin) {
        if (safetyMargin.isNegative()) {
            throw new IllegalArgumentException("safety margin must not be negative, got " + safetyMargin);
        }
        return floor(start.minus(safetyMargin));
    }

    /** Whether an event ingested at {@code ingestEpochMillis} belongs to a batch generation with cutoff T. */
    public static boolean beforeCutoff(long ingestEpochMillis, Instant cutoff) {
        return ingestEpochMillis < cutoff.toEpochMilli();
    }
}
