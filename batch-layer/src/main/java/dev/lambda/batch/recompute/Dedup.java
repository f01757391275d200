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

    private Dedup() {
    }

    public static Dataset<Row> earliestPerId(Dataset<Row> validEvents) {
        // a hash aggregate keeping the row with the smallest (ingest_ts, partition, offset): cheaper
        // than a window, which sorts every row by id
        String[] columns = validEvents.columns();
        Column all = functions.struct(java.util.Arrays.stream(columns).map(functions::col).toArray(Column[]::new));
        Column order = functions.struct(col("ingest_ts"), col("kafka_partition"), col("kafka_offset"));
        return validEvents.groupBy(col("event_id").as("dedup_id"))
                .agg(functions.min_by(all, order).as("first"))
                .select(col("first.*"));
    }
}
