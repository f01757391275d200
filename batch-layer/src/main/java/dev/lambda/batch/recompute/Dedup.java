package dev.lambda.batch.recompute;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.functions;

/**
 * The duplicate rule of DESIGN §5 applied exactly over the whole dataset: of all rows with the same
 * event id, the earliest-ingested one counts (ties broken by Kafka partition, then offset).
 */
public final class Dedup {

    private Dedup() {
    }

    public static Dataset<Row> earliestPerId(Dataset<Row> validEvents) {
        WindowSpec byId = Window.partitionBy(col("event_id"))
                .orderBy(col("ingest_ts"), col("kafka_partition"), col("kafka_offset"));
        return validEvents.withColumn("occurrence", functions.row_number().over(byId))
                .filter(col("occurrence").equalTo(1))
                .drop("occurrence");
    }
}
