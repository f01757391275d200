package dev.lambda.common.cassandra;

import java.time.Instant;

/**
 * Cassandra write times (cell timestamps, microseconds since the epoch). Of two writes of a cell
 * the later write time wins, and a delete removes only what was written no later than its own.
 */
public final class WriteTimes {

    private WriteTimes() {
    }

    public static long micros(Instant at) {
        return at.getEpochSecond() * 1_000_000 + at.getNano() / 1_000;
    }
}
