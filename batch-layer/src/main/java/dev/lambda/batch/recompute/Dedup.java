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

    /** How many valid rows went in, and how many came out (one per id). */
    public record Counts(long valid, long kept) {
        public long duplicates() {
            return valid - kept;
        }
    }

    /** The counts of an {@link #earliestPerId} result, in one pass over it. */
    public static Counts counts(Dataset<Row> deduplicated) {
        Row totals = deduplicated.agg(functions.sum(OCCURRENCES), functions.count(functions.lit(1))).first();
        return new Counts(totals.isNullAt(0) ? 0 : totals.getLong(0), totals.getLong(1));
    }

    /**
     * At most this many duplicated ids go to every task as a broadcast set; with more, every row
     * takes the sorting path. (A million ids of tens of bytes: tens of megabytes per executor.)
     */
    public static final long MAX_BROADCAST_IDS = 1_000_000;

    /** The earliest-ingested row of each id, with the number of rows that had it ({@link #OCCURRENCES}). */
    public static Dataset<Row> earliestPerId(Dataset<Row> validEvents) {
        return earliestPerId(validEvents, MAX_BROADCAST_IDS);
    }

    /**
     * {@link #earliestPerId(Dataset)}, sorting only the rows of duplicated ids when there are at most
     * {@code maxBroadcastIds} of them. Duplicates are rare (re-sends), and sorting every row by id
     * with all its columns is most of a dedup's cost; finding the duplicated ids needs only the id
     * column. Runs one job to find those ids, kept for the plan it returns.
     */
    static Dataset<Row> earliestPerId(Dataset<Row> validEvents, long maxBroadcastIds) {
        Dataset<Row> duplicated = validEvents.groupBy(col("event_id").as("dup_id"))
                .agg(functions.count(functions.lit(1)).as("dup_rows"))
                .filter(col("dup_rows").gt(1))
                .select(col("dup_id"))
                .localCheckpoint(); // computed now, once; its blocks go when the plans using it are gone
        if (duplicated.count() > maxBroadcastIds) {
            return earliestBySorting(validEvents);
        }
        Column isDuplicated = col("event_id").equalTo(col("dup_id"));
        Dataset<Row> once = validEvents.join(functions.broadcast(duplicated), isDuplicated, "left_anti")
                .withColumn(OCCURRENCES, functions.lit(1L));
        Dataset<Row> repeated = earliestBySorting(validEvents.join(functions.broadcast(duplicated), isDuplicated, "left_semi"));
        return once.unionByName(repeated);
    }

    private static Dataset<Row> earliestBySorting(Dataset<Row> validEvents) {
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
