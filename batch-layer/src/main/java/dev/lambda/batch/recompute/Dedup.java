package dev.lambda.batch.recompute;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The duplicate rule of DESIGN §5 applied exactly over the whole dataset: of all rows with the same
 * event id, the earliest-ingested one counts (ties broken by Kafka partition, then offset).
 */
public final class Dedup {

    /** The name of the column {@link #earliestPerId} adds: how many valid rows had the event's id. */
    public static final String OCCURRENCES = "occurrences";

    private Dedup() {
    }

    /**
     * How many valid rows went in, how many came out (one per id), and a fingerprint of those that
     * came out: a hash of every kept event's id, type, time and attributes (in their stored order, which
     * the parse makes name order: see {@link dev.lambda.batch.ingest.EnvelopeColumns}), the same whatever
     * the events' order or partitioning, and different (but for a 2^-64 chance) when any of them differs.
     */
    public record Counts(long valid, long kept, long fingerprint) {
        public long duplicates() {
            return valid - kept;
        }
    }

    /** The counts of an {@link #earliestPerId} result, in one pass over it. */
    public static Counts counts(Dataset<Row> deduplicated) {
        Column eventHash = functions.xxhash64(col("event_id"), col("event_type"), col("event_ts"), functions.map_entries(col("attrs")));
        Row totals = deduplicated.agg(functions.sum(OCCURRENCES), functions.count(functions.lit(1)), functions.bit_xor(eventHash)).first();
        return new Counts(totals.isNullAt(0) ? 0 : totals.getLong(0), totals.getLong(1), totals.isNullAt(2) ? 0 : totals.getLong(2));
    }

    /** The earliest-ingested row of each id, with the number of rows that had it ({@link #OCCURRENCES}). */
    public static Dataset<Row> earliestPerId(Dataset<Row> validEvents) {
        // one aggregation by id keeping the row with the smallest (ingest_ts, partition, offset);
        // Spark sorts by id for it (the kept row is not of fixed width), as a window would, but
        // without a second pass to filter the ranked rows
        String[] columns = validEvents.columns();
        Column all = functions.struct(java.util.Arrays.stream(columns).map(functions::col).toArray(Column[]::new));
        Column order = functions.struct(col("ingest_ts"), col("kafka_partition"), col("kafka_offset"));
        return validEvents.groupBy(col("event_id").as("dedup_id"))
                .agg(functions.min_by(all, order).as("first"), functions.count(functions.lit(1)).as(OCCURRENCES))
                .select(col("first.*"), col(OCCURRENCES));
    }
}
