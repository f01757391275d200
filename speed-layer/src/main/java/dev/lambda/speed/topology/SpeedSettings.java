package dev.lambda.speed.topology;

import dev.lambda.common.time.IngestSlots;
import java.time.Duration;
import java.util.Objects;

/**
 * What the topology needs to know besides the views.
 *
 * @param eventsTopic      input topic (LogAppendTime)
 * @param deadLetterTopic  where rejected records go
 * @param slots            ingest-slot width (DESIGN §4)
 * @param slotGrace        how long a slot stays open after the partition's ingest time has passed its end:
 *                         a broker clock stepping back by less than this still finds the slot's aggregates
 * @param dedupWindow      how long an id is remembered per input partition (DESIGN §5)
 * @param futureTolerance  how far {@code ts} may lie after ingest time
 * @param flushInterval    wall-clock period of the flush to the sink
 * @param persistentStores the dedup store (ids of the last window) in RocksDB (production) or in memory
 * @param deadLetterMaxBytes the most a dead letter's key, value and headers may take: a longer value is cut to fit
 *                         (below the producer's {@code max.request.size}, which would refuse the record, fail the
 *                         stream thread and bring the same record back to it without end)
 */
public record SpeedSettings(String eventsTopic, String deadLetterTopic, IngestSlots slots, Duration slotGrace, Duration dedupWindow,
                            Duration futureTolerance, Duration flushInterval, boolean persistentStores, int deadLetterMaxBytes) {

    /** Room for a record's and its batch's framing, beside its key, value and headers. */
    public static final int RECORD_OVERHEAD_BYTES = 1024;

    public SpeedSettings {
        Objects.requireNonNull(eventsTopic, "eventsTopic");
        Objects.requireNonNull(deadLetterTopic, "deadLetterTopic");
        Objects.requireNonNull(slots, "slots");
        Objects.requireNonNull(slotGrace, "slotGrace");
        if (slotGrace.isNegative() || slotGrace.compareTo(slots.width()) > 0) {
            throw new IllegalArgumentException("slot grace (--slot-grace) must be between 0 and the slot width " + slots.width()
                    + ", got " + slotGrace);
        }
        if (dedupWindow.toMillis() < 1000) {
            throw new IllegalArgumentException("dedup window must be at least 1 s, got " + dedupWindow);
        }
        if (flushInterval.toMillis() < 10) {
            throw new IllegalArgumentException("flush interval must be at least 10 ms, got " + flushInterval);
        }
        if (deadLetterMaxBytes < 4096) {
            throw new IllegalArgumentException("dead letters need at least 4096 bytes (the producer's max.request.size less "
                    + RECORD_OVERHEAD_BYTES + "), got " + deadLetterMaxBytes);
        }
    }
}
