package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lambda.batch.testing.TestSpark;
import dev.lambda.common.event.EnvelopeParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A parser fix heals the history (DESIGN §1): the recompute reads records archived under another
 * parser version, or by a release that recorded none, as this release's parser reads their raw
 * values; records archived under this version are taken as stored.
 */
class ArchivedParserVersionTest {

    private static final Duration TOLERANCE = Duration.ofMinutes(5);
    private static final Instant INGEST = Instant.parse("2026-11-20T10:00:05Z");
    private static final StructType KAFKA_RECORDS = new StructType()
            .add("partition", DataTypes.IntegerType)
            .add("offset", DataTypes.LongType)
            .add("timestamp", DataTypes.TimestampType)
            .add("value", DataTypes.BinaryType);

    @TempDir
    Path root;

    /** Master rows as this release's ingest archives them, one per raw value, offsets 0, 1, ... */
    private static Dataset<Row> archived(String... values) {
        List<Row> records = new java.util.ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            records.add(RowFactory.create(0, (long) i, Timestamp.from(INGEST), values[i].getBytes(StandardCharsets.UTF_8)));
        }
        return KafkaIngest.toMasterRows(TestSpark.get().createDataFrame(records, KAFKA_RECORDS), TOLERANCE);
    }

    private static String pageView(String id, String ts, String page) {
        return "{\"id\":\"" + id + "\",\"type\":\"page_view\",\"ts\":\"" + ts + "\",\"attrs\":{\"page\":\"" + page + "\"}}";
    }

    /** Per event id: valid flag, event time and page, as the recompute reads the dataset at {@code root}. */
    private Map<String, String> asRecomputed() {
        Dataset<Row> rows = EnvelopeColumns.current(new MasterDataset(root.toString()).read(TestSpark.get()), TOLERANCE);
        Map<String, String> out = new TreeMap<>();
        for (Row r : rows.select(col("kafka_partition"), col("kafka_offset"), col("valid"), col("event_id"), col("event_ts"),
                col("attrs").getItem("page"), col("parser_version")).collectAsList()) {
            String ts = r.isNullAt(4) ? null : r.getTimestamp(4).toInstant().toString();
            out.put(r.getInt(0) + "/" + r.getLong(1), r.getBoolean(2) + " " + r.getString(3) + " " + ts + " " + r.getString(5) + " v" + r.get(6));
        }
        return out;
    }

    @Test
    void recordsOfAReleaseWithoutParserVersionsAndOfAnOlderVersionAreParsedAgainTheOthersTakenAsStored() {
        String kafka = new MasterDataset(root.toString()).kafkaPath();
        // a release before versions were recorded, whose parser rejected this ts: stored rejected, no version column
        archived(pageView("a", "2026-11-20T11:00:00.5+01:00", "/a")).drop("parser_version")
                .withColumn("valid", lit(false)).withColumn("reject_reason", lit("bad_ts")).withColumn("event_id", lit(null).cast("string"))
                .withColumn("event_ts", lit(null).cast("timestamp")).withColumn("attrs", lit(null).cast("map<string,string>"))
                .write().mode(SaveMode.Append).partitionBy("ingest_date").parquet(kafka);
        // an older version that lost the attributes, and this version (whose stored fields stand, whatever the value says)
        Dataset<Row> later = archived("", pageView("b", "2026-11-20T10:00:00Z", "/b"), pageView("c", "2026-11-20T10:00:01Z", "/raw"));
        later.filter("kafka_offset = 1").withColumn("parser_version", lit(EnvelopeParser.VERSION - 1))
                .withColumn("attrs", lit(null).cast("map<string,string>"))
                .unionByName(later.filter("kafka_offset = 2").withColumn("attrs", org.apache.spark.sql.functions.map(lit("page"), lit("/stored"))))
                .write().mode(SaveMode.Append).partitionBy("ingest_date").parquet(kafka);

        int v = EnvelopeParser.VERSION;
        assertEquals(Map.of(
                "0/0", "true a 2026-11-20T10:00:00.500Z /a v" + v,
                "0/1", "true b 2026-11-20T10:00:00Z /b v" + v,
                "0/2", "true c 2026-11-20T10:00:01Z /stored v" + v), asRecomputed());
    }

    @Test
    void aDatasetWrittenOnlyByAReleaseWithoutParserVersionsIsParsedAgainWholeImportsToo() {
        MasterDataset master = new MasterDataset(root.toString());
        archived(pageView("a", "2026-11-20T10:00:00Z", "/a"), "{\"id\":\"b\"}").drop("parser_version")
                .withColumn("attrs", lit(null).cast("map<string,string>"))
                .write().mode(SaveMode.Append).partitionBy("ingest_date").parquet(master.kafkaPath());
        Dataset<Row> values = TestSpark.get().createDataFrame(List.of(RowFactory.create((Object) pageView("i", "2026-11-19T08:00:00Z", "/i")
                .getBytes(StandardCharsets.UTF_8))), new StructType().add("value", DataTypes.BinaryType));
        FileImport.toMasterRows(values, Timestamp.from(INGEST), TOLERANCE).drop("parser_version")
                .withColumn("attrs", lit(null).cast("map<string,string>"))
                .write().partitionBy("ingest_date").parquet(master.importPath("20261120T100005000Z"));

        int v = EnvelopeParser.VERSION;
        Map<String, String> recomputed = asRecomputed();
        assertEquals(3, recomputed.size(), recomputed.toString());
        assertEquals("true a 2026-11-20T10:00:00Z /a v" + v, recomputed.get("0/0"));
        assertEquals("false null null null v" + v, recomputed.get("0/1"));
        assertEquals(List.of("true i 2026-11-19T08:00:00Z /i v" + v), recomputed.entrySet().stream()
                .filter(e -> e.getKey().startsWith("-1/")).map(Map.Entry::getValue).toList());
    }
}
