package dev.lambda.batch.recompute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.batch.testing.MasterRows;
import dev.lambda.batch.testing.TestSpark;
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

        List<MasterRows.Event> listedOtherwise = new ArrayList<>(events); // as a record parsed again may list its attributes
        Map<String, String> reversed = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(e.attrs().keySet());
        Collections.reverse(names);
        names.forEach(n -> reversed.put(n, e.attrs().get(n)));
        assertTrue(names.size() > 1 && !List.copyOf(reversed.keySet()).equals(List.copyOf(e.attrs().keySet())));
        listedOtherwise.set(first, new MasterRows.Event(e.id(), e.type(), e.ts(), reversed, e.ingest(), e.partition(), e.offset(), e.valid()));
        assertEquals(fingerprint, fingerprint(listedOtherwise), "attributes listed in another order are the same attributes");

        List<MasterRows.Event> changed = new ArrayList<>(events);
        Map<String, String> attrs = new LinkedHashMap<>(e.attrs());
        attrs.put("country", "somewhere else");
        changed.set(first, new MasterRows.Event(e.id(), e.type(), e.ts(), attrs, e.ingest(), e.partition(), e.offset(), e.valid()));
        assertTrue(fingerprint != fingerprint(changed), "an event that counts, changed");
    }

    private static long fingerprint(List<MasterRows.Event> events) {
        return Dedup.counts(Dedup.earliestPerId(MasterRows.toDataset(TestSpark.get(), events).filter("valid").repartition(3))).fingerprint();
    }
}
