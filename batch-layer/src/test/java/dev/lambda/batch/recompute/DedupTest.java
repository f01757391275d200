package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.batch.ingest.KafkaIngest;
import dev.lambda.batch.testing.MasterRows;
import dev.lambda.batch.testing.TestSpark;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The duplicate rule (DESIGN §5) against a list-computed oracle, same-millisecond re-sends included. */
class DedupTest {

    private static final Instant START = Instant.parse("2026-11-21T10:00:00Z");

    /** Per id: "partition/offset xN" of the row that counts, N the id's rows, computed here from the list. */
    private static Map<String, String> expected(List<MasterRows.Event> events) {
        Map<String, List<MasterRows.Event>> byId = new TreeMap<>();
        for (MasterRows.Event e : events) {
            if (e.valid()) {
                byId.computeIfAbsent(e.id(), k -> new ArrayList<>()).add(e);
            }
        }
        Map<String, String> out = new TreeMap<>();
        byId.forEach((id, rows) -> {
            MasterRows.Event first = rows.stream().min(Comparator.comparing(MasterRows.Event::ingest)
                    .thenComparingInt(MasterRows.Event::partition).thenComparingLong(MasterRows.Event::offset)).orElseThrow();
            out.put(id, first.partition() + "/" + first.offset() + " x" + rows.size());
        });
        return out;
    }

    private static Map<String, String> kept(Dataset<Row> deduplicated) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : deduplicated.collectAsList()) {
            String previous = out.put(r.getAs("event_id"), r.<Integer>getAs("kafka_partition") + "/" + r.<Long>getAs("kafka_offset")
                    + " x" + r.<Long>getAs(Dedup.OCCURRENCES));
            assertEquals(null, previous, "id " + r.getAs("event_id") + " kept twice");
        }
        return out;
    }

    /** Re-sends ingested later, and re-sends ingested in the same millisecond on other partitions (ties). */
    private static List<MasterRows.Event> withTies() {
        List<MasterRows.Event> events = new ArrayList<>(MasterRows.random(11, 600, START));
        List<MasterRows.Event> ties = new ArrayList<>();
        for (int i = 0; i < events.size(); i += 37) {
            MasterRows.Event e = events.get(i);
            // a lower partition at a higher offset wins: partition decides before offset
            ties.add(new MasterRows.Event(e.id(), e.type(), e.ts(), e.attrs(), e.ingest(), e.partition() - 1, e.offset() + 10_000, e.valid()));
            ties.add(new MasterRows.Event(e.id(), e.type(), e.ts(), e.attrs(), e.ingest(), e.partition(), e.offset() + 5_000, e.valid()));
        }
        events.addAll(ties);
        return events;
    }

    @Test
    void theEarliestIngestCountsAndTiesGoByPartitionThenOffset() {
        List<MasterRows.Event> events = withTies();
        Map<String, String> expected = expected(events);
        assertTrue(expected.values().stream().filter(v -> !v.endsWith(" x1")).count() > 40, "the data has duplicated ids");
        Dataset<Row> valid = MasterRows.toDataset(TestSpark.get(), events).filter("valid");
        assertEquals(expected, kept(Dedup.earliestPerId(valid)));
    }

    @Test
    void theFingerprintFollowsTheKeptEventsOnly() {
        List<MasterRows.Event> events = withTies();
        long fingerprint = fingerprint(events);
        List<MasterRows.Event> reordered = new ArrayList<>(events);
        Collections.reverse(reordered);
        assertEquals(fingerprint, fingerprint(reordered), "order and partitioning do not count");

        // a valid event whose id nothing else has: it counts whatever the tie rules
        int first = events.indexOf(events.stream().filter(MasterRows.Event::valid)
                .filter(v -> events.stream().filter(o -> o.id().equals(v.id())).count() == 1).findFirst().orElseThrow());
        MasterRows.Event e = events.get(first);
        List<MasterRows.Event> resentLater = new ArrayList<>(events);
        resentLater.add(new MasterRows.Event(e.id(), e.type(), e.ts(), Map.of("user_id", "someone else"), e.ingest().plusSeconds(60),
                e.partition(), e.offset() + 20_000, e.valid()));
        assertEquals(fingerprint, fingerprint(resentLater), "a later re-send is not counted, so it changes nothing");

        List<MasterRows.Event> changed = new ArrayList<>(events);
        Map<String, String> attrs = new LinkedHashMap<>(e.attrs());
        attrs.put("country", "somewhere else");
        changed.set(first, new MasterRows.Event(e.id(), e.type(), e.ts(), attrs, e.ingest(), e.partition(), e.offset(), e.valid()));
        assertTrue(fingerprint != fingerprint(changed), "an event that counts, changed");
    }

    @Test
    void aRawValueListingItsAttributesInAnotherOrderIsStoredAndFingerprintedAlike() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            names.add("a" + Integer.toString(i * 7919 % 97, 36)); // listed out of name order
        }
        List<String> reversed = new ArrayList<>(names);
        Collections.reverse(reversed);
        Dataset<Row> listed = archived(names);
        Dataset<Row> listedOtherwise = archived(reversed);

        List<String> sorted = new ArrayList<>(names);
        Collections.sort(sorted);
        for (Dataset<Row> rows : List.of(listed, listedOtherwise)) {
            Row row = rows.selectExpr("map_keys(attrs)").first();
            assertEquals(sorted, row.getList(0), "attributes are stored in name order");
        }
        assertEquals(Dedup.counts(Dedup.earliestPerId(listed)).fingerprint(), Dedup.counts(Dedup.earliestPerId(listedOtherwise)).fingerprint());
    }

    /** One event archived as the ingest archives it, its raw value listing attributes named {@code names} in that order. */
    private static Dataset<Row> archived(List<String> names) {
        StringBuilder json = new StringBuilder("{\"id\":\"x\",\"type\":\"page_view\",\"ts\":\"2026-11-21T10:00:00Z\",\"attrs\":{");
        for (int i = 0; i < names.size(); i++) {
            json.append(i == 0 ? "" : ",").append('"').append(names.get(i)).append("\":\"v").append(names.get(i)).append('"');
        }
        Row record = RowFactory.create(0, 7L, Timestamp.from(START), json.append("}}").toString().getBytes(StandardCharsets.UTF_8));
        StructType kafkaRecords = new StructType().add("partition", DataTypes.IntegerType).add("offset", DataTypes.LongType)
                .add("timestamp", DataTypes.TimestampType).add("value", DataTypes.BinaryType);
        Dataset<Row> master = KafkaIngest.toMasterRows(TestSpark.get().createDataFrame(List.of(record), kafkaRecords), Duration.ofMinutes(5));
        assertTrue(master.first().<Boolean>getAs("valid"), "the event parses");
        return master.filter("valid");
    }

    private static long fingerprint(List<MasterRows.Event> events) {
        return Dedup.counts(Dedup.earliestPerId(MasterRows.toDataset(TestSpark.get(), events).filter("valid").repartition(3))).fingerprint();
    }
}
