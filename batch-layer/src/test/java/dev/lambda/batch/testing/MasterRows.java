package dev.lambda.batch.testing;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Seeded random master rows for transform tests: page views, purchases and signups with duplicates
 * (same id, later ingest, possibly another partition and other attributes), late and out-of-order
 * event times, invalid rows; in memory, no files.
 */
public final class MasterRows {

    public record Event(String id, String type, Instant ts, Map<String, String> attrs, Instant ingest, int partition, long offset,
                        boolean valid) {
    }

    public static final StructType SCHEMA = new StructType()
            .add("kafka_partition", DataTypes.IntegerType)
            .add("kafka_offset", DataTypes.LongType)
            .add("ingest_ts", DataTypes.TimestampType)
            .add("valid", DataTypes.BooleanType)
            .add("event_id", DataTypes.StringType)
            .add("event_type", DataTypes.StringType)
            .add("event_ts", DataTypes.TimestampType)
            .add("attrs", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));

    private static final String[] COUNTRIES = {"NP", "IN", "DE", "US"};

    private MasterRows() {
    }

    public static List<Event> random(long seed, int n, Instant firstIngest) {
        Random random = new Random(seed);
        List<Event> events = new ArrayList<>();
        long[] offsets = new long[3];
        for (int i = 0; i < n; i++) {
            Instant ingest = firstIngest.plusMillis(i * 700L);
            int partition = random.nextInt(3);
            long offset = offsets[partition]++;
            if (!events.isEmpty() && random.nextInt(20) == 0) {
                Event original = events.get(random.nextInt(events.size()));
                Map<String, String> attrs = new LinkedHashMap<>(original.attrs());
                if (attrs.containsKey("amount")) {
                    attrs.put("amount", "999.99"); // a re-send that differs: must never be the one counted
                }
                events.add(new Event(original.id(), original.type(), original.ts(), attrs, ingest, partition, offset, original.valid()));
                continue;
            }
            long lateness = random.nextInt(20) == 0 ? random.nextInt(3 * 86_400) * 1000L : random.nextInt(90_000);
            Instant ts = ingest.minusMillis(lateness);
            Map<String, String> attrs = new LinkedHashMap<>();
            attrs.put("user_id", "u" + random.nextInt(300));
            if (random.nextInt(15) != 0) {
                attrs.put("country", COUNTRIES[random.nextInt(COUNTRIES.length)]);
            }
            String type;
            int kind = random.nextInt(10);
            if (kind < 6) {
                type = "page_view";
                attrs.put("page", "/p" + random.nextInt(10));
            } else if (kind < 9) {
                type = "purchase";
                attrs.put("product", "sku-" + random.nextInt(6));
                if (random.nextInt(12) != 0) {
                    attrs.put("amount", random.nextInt(500) + "." + String.format("%02d", random.nextInt(100)));
                }
            } else {
                type = "signup";
            }
            events.add(new Event("e" + Long.toHexString(seed) + "-" + i, type, ts, attrs, ingest, partition, offset, random.nextInt(50) != 0));
        }
        return events;
    }

    public static Dataset<Row> toDataset(SparkSession spark, List<Event> events) {
        List<Row> rows = new ArrayList<>();
        for (Event e : events) {
            rows.add(RowFactory.create(e.partition(), e.offset(), Timestamp.from(e.ingest()), e.valid(),
                    e.valid() ? e.id() : null, e.valid() ? e.type() : null, e.valid() ? Timestamp.from(e.ts()) : null,
                    e.valid() ? CollectionConverters.asScala(e.attrs()) : null));
        }
        return spark.createDataFrame(rows, SCHEMA);
    }
}
