package dev.lambda.speed.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.speed.metrics.SpeedMetrics;
import dev.lambda.speed.sink.RowsNotWrittenException;
import dev.lambda.speed.sink.SpeedRowSink;
import dev.lambda.speed.testing.CollectingSink;
import dev.lambda.speed.testing.Oracle;
import dev.lambda.speed.testing.RandomEvents;
import dev.lambda.speed.testing.ViewVersions;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SpeedTopologyTest {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final Duration WINDOW = Duration.ofHours(24);
    private static final IngestSlots SLOTS = new IngestSlots(Duration.ofHours(1));
    private static final Duration GRACE = Duration.ofSeconds(10);
    /** Small, so a test reject can outgrow it: the layer takes the producer's max.request.size less the framing. */
    private static final int DEAD_LETTER_MAX_BYTES = 8192;

    private final CollectingSink sink = new CollectingSink();
    /**
     * The clock flush costs are measured with: it moves only when a sink call says it took time, so
     * the flush pacing sees the costs the tests set, not how busy the machine running them is.
     */
    private final AtomicLong ticker = new AtomicLong();
    /** Records waiting in Kafka for input partition 0 (the driver's only one), as the pacing is told. */
    private final AtomicLong lag = new AtomicLong();
    /** How long the next sink call takes, then back to 0 ... */
    private volatile long nextWriteMillis;
    /** ... and whether that was writing (a busy store) rather than waiting for one that was down. */
    private volatile boolean nextWriteWorks;
    /** When a stopping instance's tasks must be done, as the speed layer tells them; Long.MAX_VALUE while it runs. */
    private final AtomicLong stopBy = new AtomicLong(Long.MAX_VALUE);
    /** Whether the next sink call gives its rows back, as the Cassandra sink does after waiting out its patience. */
    private volatile boolean nextWriteGivesUp;
    /** Set: the next sink call stores the rows of this level only and gives the others back. */
    private volatile String nextWriteStoresOnlyLevel;
    /** Set with the above: the rows given back are equal copies, not the instances handed in. */
    private volatile boolean nextWriteGivesBackCopies;
    /** View and level of every row the last sink call was handed, sorted. */
    private volatile List<String> lastWriteRows = List.of();
    /** Whether the next try at recording the slot width fails (the store is down). */
    private volatile boolean nextWidthRecordFails;
    /** Every slot width recorded: partition, newest ingest, and how many rows the sink held then. */
    private final List<String> widthRecords = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Whether a stopping task's one try at writing fails (the store is down). */
    private volatile boolean finalWriteFails;
    private final SpeedMetrics metrics = new SpeedMetrics(new PrometheusRegistry());
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> events;
    private TestOutputTopic<byte[], byte[]> deadLetters;

    @BeforeEach
    void start() {
        SpeedSettings settings = new SpeedSettings("events", "events.dlq", SLOTS, GRACE, WINDOW, Duration.ofMinutes(5),
                Duration.ofMillis(500), false, DEAD_LETTER_MAX_BYTES);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "speed-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        driver = new TopologyTestDriver(SpeedTopology.build(VIEWS, settings, new SpeedRowSink() {
            @Override
            public long writeAll(List<Write> writes, long writeTime) throws InterruptedException, RowsNotWrittenException {
                if (nextWriteGivesUp) {
                    nextWriteGivesUp = false;
                    throw new RowsNotWrittenException("Cassandra still down", writes);
                }
                lastWriteRows = writes.stream().map(w -> w.view().name() + " " + w.row().level().id()).sorted().toList();
                if (nextWriteStoresOnlyLevel != null) { // some partitions' batches stored, the others still failing
                    String level = nextWriteStoresOnlyLevel;
                    nextWriteStoresOnlyLevel = null;
                    var stored = writes.stream().filter(w -> w.row().level().id().equals(level)).toList();
                    sink.writeAll(stored, writeTime);
                    var back = writes.stream().filter(w -> !stored.contains(w));
                    throw new RowsNotWrittenException("some batches still failing", nextWriteGivesBackCopies
                            ? back.map(w -> new Write(w.view(), w.row())).toList() : back.toList());
                }
                long took = nextWriteMillis;
                ticker.addAndGet(took * 1_000_000);
                nextWriteMillis = 0;
                return sink.writeAll(writes, writeTime) + (nextWriteWorks ? took * 1_000_000 : 0);
            }

            @Override
            public boolean tryWriteAll(List<Write> writes, long writeTime, long deadlineNanos) throws InterruptedException {
                return !finalWriteFails && SpeedRowSink.super.tryWriteAll(writes, writeTime, deadlineNanos);
            }

            @Override
            public boolean recordSlotWidth(int partition, Instant newestIngest, long writeTime) {
                if (nextWidthRecordFails) {
                    nextWidthRecordFails = false;
                    return false;
                }
                widthRecords.add(partition + " " + newestIngest + ", " + sink.rows().size() + " rows before");
                return true;
            }

            @Override
            public boolean writeProgress(Progress progress, long writeTime) {
                return sink.writeProgress(progress, writeTime);
            }

            @Override
            public boolean recordViewVersions(int partition, Map<String, Instant> versions) {
                return sink.recordViewVersions(partition, versions);
            }
        }, metrics, stopBy::get, p -> p == 0 ? lag.get() : 0, ticker::get), props, Instant.parse("2026-11-21T10:00:00Z"));
        events = driver.createInputTopic("events", new ByteArraySerializer(), new ByteArraySerializer());
        deadLetters = driver.createOutputTopic("events.dlq", new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    private void closeDriver() {
        driver.close();
        driver = null;
    }

    private void send(String json, String ingest) {
        events.pipeInput(new TestRecord<>(null, json.getBytes(StandardCharsets.UTF_8), Instant.parse(ingest)));
    }

    private void flush() {
        driver.advanceWallClockTime(Duration.ofSeconds(1));
    }

    private static String purchase(String id, String ts, String product, String amount, String user) {
        return "{\"id\":\"" + id + "\",\"type\":\"purchase\",\"ts\":\"" + ts + "\",\"attrs\":{\"product\":\"" + product
                + "\",\"country\":\"NP\",\"amount\":\"" + amount + "\",\"user_id\":\"" + user + "\"}}";
    }

    /** Sum over slots and partitions of one metric of the sales view for (level, bucket, dims). */
    private Object sales(String level, String bucket, int metric) {
        MetricValue total = null;
        for (var w : sink.rows().values()) {
            var r = w.row();
            if (w.view().name().equals("sales") && r.level().id().equals(level) && r.bucket().equals(Instant.parse(bucket))) {
                MetricValue v = r.aggregate().get(metric);
                total = total == null ? v : total.plus(v);
            }
        }
        return total == null ? null : total.read();
    }

    @Test
    void anInstanceThatStopsWritesWhatChangedSinceItsLastFlush() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        flush();
        send(purchase("b", "2026-11-21T10:00:10Z", "p1", "2.25", "u2"), "2026-11-21T10:00:02Z");
        send("not json", "2026-11-21T10:00:03Z");
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0), "the second purchase is not flushed yet");
        stopBy.set(System.nanoTime() + Duration.ofSeconds(10).toNanos());
        closeDriver();
        assertEquals(2L, sales("minute", "2026-11-21T10:00:00Z", 0));
        assertEquals(new BigDecimal("3.75"), sales("hour", "2026-11-21T10:00:00Z", 1));
        assertEquals(new SpeedRowSink.Progress(0, 3, Instant.parse("2026-11-21T10:00:03Z"), 0, Map.of("malformed_json", 1L)),
                sink.progress(0), "the progress covers every record");
    }

    @Test
    void aTaskThatClosesAfterTheStopsTimeIsUpLeavesItsChangesToTheNextStart() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        stopBy.set(System.nanoTime() - 1); // the tasks closed before it used the time up
        closeDriver();
        assertTrue(sink.rows().isEmpty());
    }

    @Test
    void aTaskRecordsItsSlotWidthBeforeItsFirstRowsAndRowsOfEachLaterSlotAndWritesNoneUntilItIsStored() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        send(purchase("b", "2026-11-21T10:00:05Z", "p1", "2.00", "u2"), "2026-11-21T10:00:04Z");
        nextWidthRecordFails = true;
        flush();
        assertTrue(sink.rows().isEmpty() && widthRecords.isEmpty(), "no row before its slot width is recorded");
        assertEquals(1, metrics.flushesGivenBack(), "counted as a flush the store did not take");
        flush();
        assertTrue(sink.rows().isEmpty(), "the next try waits a few flush intervals");
        flush();
        assertEquals(List.of("0 2026-11-21T10:00:04Z, 0 rows before"), widthRecords);
        assertEquals(2L, sales("minute", "2026-11-21T10:00:00Z", 0));
        send(purchase("c", "2026-11-21T10:00:06Z", "p1", "1.00", "u3"), "2026-11-21T10:00:06Z");
        flush();
        assertEquals(3L, sales("minute", "2026-11-21T10:00:00Z", 0));
        assertEquals(1, widthRecords.size(), "rows of a slot already recorded");
        int rowsBefore = sink.rows().size();
        send(purchase("d", "2026-11-21T11:00:02Z", "p1", "1.00", "u4"), "2026-11-21T11:00:01Z");
        flush();
        assertEquals(List.of("0 2026-11-21T10:00:04Z, 0 rows before", "0 2026-11-21T11:00:01Z, " + rowsBefore + " rows before"),
                widthRecords, "the next slot's rows, before they are written");
        assertTrue(sink.rows().size() > rowsBefore);
    }

    @Test
    void rowsASinkGivesBackAreWrittenByTheNextFlush() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        nextWriteGivesUp = true;
        flush();
        assertTrue(sink.rows().isEmpty());
        assertEquals(-1, metrics.flushedOffset(0), "nothing is claimed as flushed");
        assertEquals(1, metrics.flushesGivenBack());
        send(purchase("b", "2026-11-21T10:00:10Z", "p2", "2.00", "u2"), "2026-11-21T10:00:01Z");
        flush();
        assertTrue(sink.rows().isEmpty(), "the next try waits a few flush intervals");
        flush();
        assertEquals(2L, sales("hour", "2026-11-21T10:00:00Z", 0), "the rows given back and the new ones");
        assertEquals(2, metrics.flushedOffset(0));
    }

    @Test
    void onlyTheRowsASinkGaveBackAreWrittenAgain() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        nextWriteStoresOnlyLevel = "minute";
        flush();
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0));
        assertEquals(-1, metrics.flushedOffset(0), "nothing is claimed as flushed while rows were given back");
        lastWriteRows = List.of();
        flush();
        flush(); // the retry comes a few flush intervals later
        assertEquals(List.of("activity day", "activity hour", "sales day", "sales hour"), lastWriteRows,
                "the rows given back, and not the stored minute row");
        assertEquals(1L, sales("hour", "2026-11-21T10:00:00Z", 0));
        assertEquals(1L, sales("day", "2026-11-21T00:00:00Z", 0));
        assertEquals(1, metrics.flushedOffset(0));
        assertEquals(1, sink.rows().values().stream().filter(w -> w.view().name().equals("activity") && w.row().level().id().equals("day"))
                .count());
    }

    @Test
    void rowsGivenBackThatAreNotTheOnesHandedInLeaveEveryRowToBeWrittenAgain() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        nextWriteStoresOnlyLevel = "minute";
        nextWriteGivesBackCopies = true; // a wrapping sink that rebuilt them: which rows were stored is not known
        flush();
        lastWriteRows = List.of();
        flush();
        flush();
        assertEquals(List.of("activity day", "activity hour", "sales day", "sales hour", "sales minute"), lastWriteRows);
        assertEquals(1L, sales("hour", "2026-11-21T10:00:00Z", 0));
    }

    @Test
    void aTaskClosedWhileTheInstanceRunsOnLeavesItsChangesToTheNextOwner() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        closeDriver(); // a rebalance or a failure: the next owner writes every aggregate of the store when it starts
        assertTrue(sink.rows().isEmpty());
    }

    @Test
    void aStoppingTaskThatCannotWriteStopsAnyway() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.50", "u1"), "2026-11-21T10:00:00Z");
        stopBy.set(System.nanoTime() + Duration.ofSeconds(10).toNanos());
        finalWriteFails = true;
        closeDriver(); // returns: one try, no retries
        assertTrue(sink.rows().isEmpty());
        assertNull(sink.progress(0), "no progress is claimed for rows not written");
    }

    @Test
    void rejectsGoToTheDeadLetterTopicWithReasonSourceAndOriginalBytes() {
        send("{\"id\":\"a\",\"type\":", "2026-11-21T10:00:00Z");
        send("{\"id\":\"b\",\"type\":\"purchase\",\"ts\":\"2026-11-21T11:00:00Z\"}", "2026-11-21T10:00:01Z");
        send(purchase("ok", "2026-11-21T10:00:00Z", "p1", "1.00", "u1"), "2026-11-21T10:00:02Z");
        List<TestRecord<byte[], byte[]>> dlq = deadLetters.readRecordsToList();
        assertEquals(2, dlq.size());
        assertEquals("{\"id\":\"a\",\"type\":", new String(dlq.get(0).value(), StandardCharsets.UTF_8));
        assertEquals("malformed_json", header(dlq.get(0), DeadLetterHeaders.REASON));
        assertEquals("future_ts", header(dlq.get(1), DeadLetterHeaders.REASON));
        assertTrue(header(dlq.get(1), DeadLetterHeaders.DETAIL).contains("after ingest time"));
        assertEquals("events", header(dlq.get(1), DeadLetterHeaders.SOURCE_TOPIC));
        assertEquals("1", header(dlq.get(1), DeadLetterHeaders.SOURCE_OFFSET));
        assertEquals(1, metrics.deadLetters("malformed_json"));
        flush();
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0));
    }

    /** A reason that quotes a long attribute name is cut to 1,000 characters, never inside a character. */
    @Test
    void aLongDetailIsCutBetweenCharacters() {
        String name = "a".repeat(993) + "\uD83D\uDE00" + "b".repeat(5_000); // "attrs." + 993: the emoji starts at 999
        send("{\"id\":\"x\",\"type\":\"purchase\",\"ts\":\"2026-11-21T10:00:00Z\",\"attrs\":{\"" + name + "\":{\"y\":1}}}",
                "2026-11-21T10:00:00Z");
        TestRecord<byte[], byte[]> dlq = deadLetters.readRecordsToList().get(0);
        assertEquals("attrs_not_flat", header(dlq, DeadLetterHeaders.REASON));
        assertEquals("attrs." + "a".repeat(993) + "…", header(dlq, DeadLetterHeaders.DETAIL));
    }

    /**
     * A reject whose copy, headers added, would pass the producer's size limit is cut to fit and
     * says so; sent whole, the producer would refuse it and fail the stream thread on it again and
     * again. The records after it are counted.
     */
    @Test
    void aRejectTooLargeToSendWithItsHeadersIsCutToFitAndSaysSo() {
        String big = "{\"id\":\"big\",\"type\":\"" + "x".repeat(20_000);
        send(big, "2026-11-21T10:00:00Z");
        String nearTheLimit = "{\"id\":\"near\",\"type\":\"" + "y".repeat(DEAD_LETTER_MAX_BYTES - 100);
        send(nearTheLimit, "2026-11-21T10:00:01Z"); // fits alone, not with the headers
        send("{\"id\":\"small\"", "2026-11-21T10:00:02Z");
        send(purchase("ok", "2026-11-21T10:00:00Z", "p1", "1.00", "u1"), "2026-11-21T10:00:03Z");
        List<TestRecord<byte[], byte[]>> dlq = deadLetters.readRecordsToList();
        assertEquals(3, dlq.size());
        for (int i = 0; i < 2; i++) {
            TestRecord<byte[], byte[]> cut = dlq.get(i);
            String sent = i == 0 ? big : nearTheLimit;
            String kept = new String(cut.value(), StandardCharsets.UTF_8);
            assertTrue(sent.startsWith(kept) && kept.length() > 1_000, "the first bytes: " + kept.length());
            assertEquals(Integer.toString(sent.length()), header(cut, DeadLetterHeaders.TRUNCATED_FROM));
            assertEquals("malformed_json", header(cut, DeadLetterHeaders.REASON));
            long size = cut.value().length;
            for (var h : cut.headers()) {
                size += h.key().getBytes(StandardCharsets.UTF_8).length + h.value().length;
            }
            assertTrue(size <= DEAD_LETTER_MAX_BYTES, size + " bytes");
        }
        assertEquals("{\"id\":\"small\"", new String(dlq.get(2).value(), StandardCharsets.UTF_8), "sent whole");
        assertNull(dlq.get(2).headers().lastHeader(DeadLetterHeaders.TRUNCATED_FROM));

        // a small reject whose own headers (or key) alone are too large: sent with this layer's headers only
        var huge = new org.apache.kafka.common.header.internals.RecordHeaders();
        huge.add("trace", new byte[3 * DEAD_LETTER_MAX_BYTES]);
        huge.add("tenant", "acme".getBytes(StandardCharsets.UTF_8));
        events.pipeInput(new TestRecord<>("k".repeat(2 * DEAD_LETTER_MAX_BYTES).getBytes(StandardCharsets.UTF_8),
                "{\"id\":".getBytes(StandardCharsets.UTF_8), huge, Instant.parse("2026-11-21T10:00:04Z")));
        TestRecord<byte[], byte[]> bare = deadLetters.readRecord();
        assertEquals("2", header(bare, DeadLetterHeaders.HEADERS_DROPPED));
        assertEquals("6", header(bare, DeadLetterHeaders.TRUNCATED_FROM));
        assertEquals("malformed_json", header(bare, DeadLetterHeaders.REASON));
        assertEquals("4", header(bare, DeadLetterHeaders.SOURCE_OFFSET));
        assertNull(bare.headers().lastHeader("trace"));
        long bareSize = bare.key().length + bare.value().length;
        for (var h : bare.headers()) {
            bareSize += h.key().getBytes(StandardCharsets.UTF_8).length + h.value().length;
        }
        assertTrue(bareSize <= DEAD_LETTER_MAX_BYTES && bare.key().length > 1_000, bareSize + " bytes, key " + bare.key().length);
        flush();
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0));
    }

    @Test
    void theFlushedOffsetAdvancesOnlyOnceAFlushHasWrittenTheRecordsBeforeIt() {
        assertEquals(-1, metrics.flushedOffset(0));
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.00", "u1"), "2026-11-21T10:00:00Z");
        send("not json", "2026-11-21T10:00:01Z");
        assertEquals(-1, metrics.flushedOffset(0), "nothing is in the sink before a flush");
        flush();
        assertEquals(2, metrics.flushedOffset(0));
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0));
        assertEquals(new SpeedRowSink.Progress(0, 2, Instant.parse("2026-11-21T10:00:01Z"), 0, Map.of("malformed_json", 1L)),
                sink.progress(0));
        assertEquals(ViewVersions.since(VIEWS, Map.of()), sink.viewVersions(0), "every version since the partition's first offset");
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.00", "u1"), "2026-11-21T10:00:02Z"); // a duplicate: nothing to write
        send("[]", "2026-11-21T10:00:03Z");
        send("also not json", "2026-11-21T10:00:04Z");
        flush();
        assertEquals(5, metrics.flushedOffset(0));
        assertEquals(new SpeedRowSink.Progress(0, 5, Instant.parse("2026-11-21T10:00:04Z"), 1,
                Map.of("malformed_json", 2L, "not_an_object", 1L)), sink.progress(0));
        closeDriver();
        assertEquals(-1, metrics.flushedOffset(0), "a partition whose task closed here is no longer this instance's to report");
        assertEquals(-1, metrics.openAggregates(0));
    }

    /** Such an event counts and its amount adds nothing, as documented; an operator sees how often, per view and metric. */
    @Test
    void anAmountThatIsNoNumberIsCountedPerMetricAndTheEventStillCounts() {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "12,50", "u1"), "2026-11-21T10:00:01Z");
        send(purchase("b", "2026-11-21T10:00:00Z", "p1", "2.50", "u2"), "2026-11-21T10:00:02Z");
        send("{\"id\":\"c\",\"type\":\"purchase\",\"ts\":\"2026-11-21T10:00:00Z\",\"attrs\":{\"product\":\"p1\",\"country\":\"NP\"}}",
                "2026-11-21T10:00:03Z"); // no amount at all: nothing to report
        flush();
        assertEquals(3L, sales("day", "2026-11-21T00:00:00Z", 0));
        assertEquals(new BigDecimal("2.50"), sales("day", "2026-11-21T00:00:00Z", 1));
        for (String metric : List.of("revenue", "smallest", "biggest")) {
            assertEquals(1, metrics.unusableValues("sales", metric), metric + ", once however many levels the view keeps");
        }
    }

    @Test
    void aDuplicateWithinTheWindowCountsOnceAndOneBeyondItCountsAgain() {
        String e = purchase("dup", "2026-11-21T10:00:00Z", "p1", "2.50", "u1");
        send(e, "2026-11-21T10:00:00Z");
        send(e, "2026-11-21T12:00:00Z");
        send(e, "2026-11-22T09:59:59Z"); // still inside 24 h of the first
        flush();
        assertEquals(1L, sales("day", "2026-11-21T00:00:00Z", 0));
        assertEquals(new BigDecimal("2.50"), sales("day", "2026-11-21T00:00:00Z", 1));
        assertEquals(2, metrics.duplicatesDropped());
        send(e, "2026-11-22T10:00:01Z"); // beyond the window: counted again (the batch corrects this)
        flush();
        assertEquals(2L, sales("day", "2026-11-21T00:00:00Z", 0));
    }

    @Test
    void lateAndOutOfOrderEventsLandInTheirOwnBucketsAndTheCurrentSlotAtEveryLevel() {
        send(purchase("new", "2026-11-21T10:30:00Z", "p1", "1.00", "u1"), "2026-11-21T10:30:01Z");
        send(purchase("late", "2026-11-19T08:15:30Z", "p1", "4.00", "u2"), "2026-11-21T10:31:00Z");
        send(purchase("ooo", "2026-11-21T10:29:59Z", "p1", "2.00", "u3"), "2026-11-21T10:31:30Z");
        flush();
        assertEquals(1L, sales("minute", "2026-11-19T08:15:00Z", 0));
        assertEquals(1L, sales("hour", "2026-11-19T08:00:00Z", 0));
        assertEquals(new BigDecimal("4.00"), sales("day", "2026-11-19T00:00:00Z", 1));
        assertEquals(1L, sales("minute", "2026-11-21T10:29:00Z", 0));
        assertEquals(new BigDecimal("3.00"), sales("hour", "2026-11-21T10:00:00Z", 1));
        assertEquals(new BigDecimal("1.00"), sales("day", "2026-11-21T00:00:00Z", 2), "min");
        assertEquals(new BigDecimal("2.00"), sales("day", "2026-11-21T00:00:00Z", 3), "max");
        assertEquals(2L, sales("day", "2026-11-21T00:00:00Z", 4), "distinct buyers");
        for (var w : sink.rows().values()) {
            assertEquals(Instant.parse("2026-11-21T10:00:00Z"), w.row().slot(), "every row is in the ingest slot");
        }
    }

    @Test
    void slotBoundariesSplitRowsAndClosedSlotsLeaveTheStoreOnceFlushed() {
        send(purchase("a", "2026-11-21T10:59:00Z", "p1", "1.00", "u1"), "2026-11-21T10:59:59.999Z");
        send(purchase("b", "2026-11-21T10:59:00Z", "p1", "1.00", "u2"), "2026-11-21T11:00:00.000Z");
        KeyValueStore<AggregateKey, SlotAggregate> store = driver.getKeyValueStore(SpeedTopology.AGGREGATES_STORE);
        long slot10 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        long slot11 = Instant.parse("2026-11-21T11:00:00Z").toEpochMilli();
        AggregateKey minute10 = new AggregateKey("sales", VIEWS.find("sales").orElseThrow().version(), dev.lambda.common.time.Granularity.MINUTE,
                Instant.parse("2026-11-21T10:59:00Z").toEpochMilli(), List.of("p1", "NP"), slot10);
        assertEquals(1L, store.get(minute10).aggregate().get(0).read());
        flush();
        Map<Long, Long> bySlot = new HashMap<>();
        sink.rows().forEach((k, w) -> {
            if (k.view().equals("sales") && k.level().equals("minute")) {
                bySlot.merge(k.slot(), (Long) w.row().aggregate().get(0).read(), Long::sum);
            }
        });
        assertEquals(Map.of(slot10, 1L, slot11, 1L), bySlot);
        assertEquals(1L, store.get(minute10).aggregate().get(0).read(), "the 10:00 slot stays open for the grace");
        send(purchase("c", "2026-11-21T11:00:05Z", "p2", "1.00", "u3"), "2026-11-21T11:00:10.000Z"); // the grace is over
        flush();
        assertNull(store.get(minute10), "the closed 10:00 slot left the store after its flush");
        assertEquals(1L, store.get(new AggregateKey(minute10.view(), minute10.version(), minute10.level(), minute10.bucket(),
                minute10.dims(), slot11)).aggregate().get(0).read(), "the open slot stays");
    }

    /**
     * At every commit (the driver commits after each record) the store holds each changed aggregate
     * with every event so far: those the previous commit put included.
     */
    @Test
    void eachCommitLeavesTheStoreWithEveryEventOfTheChangedAggregates() {
        KeyValueStore<AggregateKey, SlotAggregate> store = driver.getKeyValueStore(SpeedTopology.AGGREGATES_STORE);
        AggregateKey minute = new AggregateKey("sales", VIEWS.find("sales").orElseThrow().version(), dev.lambda.common.time.Granularity.MINUTE,
                Instant.parse("2026-11-21T10:59:00Z").toEpochMilli(), List.of("p1", "NP"), Instant.parse("2026-11-21T10:00:00Z").toEpochMilli());
        send(purchase("a", "2026-11-21T10:59:00Z", "p1", "1.00", "u1"), "2026-11-21T10:59:10Z");
        assertEquals(1L, store.get(minute).aggregate().get(0).read());
        send(purchase("b", "2026-11-21T10:59:30Z", "p1", "2.50", "u2"), "2026-11-21T10:59:20Z");
        assertEquals(List.of(2L, new java.math.BigDecimal("3.50")), store.get(minute).aggregate().values().stream().limit(2)
                .map(dev.lambda.common.metric.MetricValue::read).toList());
    }

    @Test
    void anAggregateFlushedWhileItsSlotWasOpenLeavesTheStoreWhenTheSlotCloses() {
        send(purchase("a", "2026-11-21T10:59:00Z", "p1", "1.00", "u1"), "2026-11-21T10:59:59.000Z");
        flush(); // written while the 10:00 slot is open
        long heldForOneEvent = metrics.openAggregates(0);
        assertEquals(VIEWS.viewsFor("purchase").stream().mapToInt(v -> v.levels().size()).sum(), heldForOneEvent,
                "one aggregate per level of every view a purchase feeds");
        send(purchase("b", "2026-11-21T11:00:00Z", "p2", "1.00", "u2"), "2026-11-21T11:00:11.000Z"); // another key, next slot, past the grace
        flush();
        assertEquals(heldForOneEvent, metrics.openAggregates(0), "memory holds the open slot's aggregates only, every level");
        KeyValueStore<AggregateKey, SlotAggregate> store = driver.getKeyValueStore(SpeedTopology.AGGREGATES_STORE);
        long slot10 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        List<AggregateKey> left = new java.util.ArrayList<>();
        try (var all = store.all()) {
            all.forEachRemaining(kv -> left.add(kv.key));
        }
        assertTrue(left.stream().noneMatch(k -> k.slot() == slot10), "nothing of the closed slot stays in the store: " + left);
        assertTrue(left.stream().allMatch(k -> k.level() == VIEWS.find(k.view()).orElseThrow().granularity()),
                "only each view's base level is stored: " + left);
        assertFalse(left.isEmpty());
    }

    /** Sales orders of product p1 in the 10:59 minute, by slot, as last written. */
    private Map<Long, Long> ordersOfP1At1059BySlot() {
        Map<Long, Long> bySlot = new HashMap<>();
        sink.rows().forEach((k, w) -> {
            if (k.view().equals("sales") && k.level().equals("minute") && k.bucket() == Instant.parse("2026-11-21T10:59:00Z").toEpochMilli()
                    && k.dims().get(0).equals("p1")) {
                bySlot.merge(k.slot(), (Long) w.row().aggregate().get(0).read(), Long::sum);
            }
        });
        return bySlot;
    }

    /** Two orders of p1 in the 10:00 slot, then one of p2 ingested at {@code nextSlotIngest} (11:00 slot), flushed. */
    private void twoOrdersInSlot10ThenOneAt(String nextSlotIngest) {
        send(purchase("a", "2026-11-21T10:59:00Z", "p1", "1.00", "u1"), "2026-11-21T10:59:50Z");
        send(purchase("b", "2026-11-21T10:59:00Z", "p1", "1.00", "u2"), "2026-11-21T10:59:55Z");
        send(purchase("c", "2026-11-21T11:00:00Z", "p2", "1.00", "u3"), nextSlotIngest);
        flush();
    }

    @Test
    void aBrokerClockSteppingBackWithinTheGraceAddsToTheSlotItStillHolds() {
        long slot10 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        twoOrdersInSlot10ThenOneAt("2026-11-21T11:00:05Z"); // within the 10 s grace: the 10:00 slot stays open
        send(purchase("d", "2026-11-21T10:59:00Z", "p1", "1.00", "u4"), "2026-11-21T10:59:58Z"); // the clock went back 7 s
        flush();
        assertEquals(Map.of(slot10, 3L), ordersOfP1At1059BySlot());
        assertEquals(0, metrics.closedSlotEvents());
    }

    @Test
    void anEventInASlotClosedBeforeTheClockSteppedBackIsLeftToTheBatchNotRewrittenFromZero() {
        long slot10 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        twoOrdersInSlot10ThenOneAt("2026-11-21T11:00:30Z"); // past the grace: the 10:00 slot is written and closed
        String late = purchase("d", "2026-11-21T10:59:00Z", "p1", "1.00", "u4");
        send(late, "2026-11-21T10:59:58Z"); // the clock went back 32 s
        flush();
        assertEquals(Map.of(slot10, 2L), ordersOfP1At1059BySlot(), "the closed slot's row keeps both events it had");
        assertEquals(1, metrics.closedSlotEvents());
        send(late, "2026-11-21T11:00:40Z"); // its re-send: a duplicate, as in the batch, where the first occurrence counts
        flush();
        assertEquals(Map.of(slot10, 2L), ordersOfP1At1059BySlot());
        assertEquals(1, metrics.duplicatesDropped());
    }

    @Test
    void aReSendAfterTheClockSteppedBackIsADuplicateThoughItsTimeIsEarlier() {
        long slot10 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        String e = purchase("e", "2026-11-21T10:59:00Z", "p1", "1.00", "u1");
        send(e, "2026-11-21T10:59:50Z");
        send(e, "2026-11-21T10:59:45Z"); // the broker clock went back 5 s before the re-send arrived
        flush();
        assertEquals(Map.of(slot10, 1L), ordersOfP1At1059BySlot());
        assertEquals(1, metrics.duplicatesDropped());
    }

    @Test
    void withRecordsWaitingInKafkaAFlushThatTookLongWritingHoldsTheNextOneBackButOneThatWaitedOutAnOutageDoesNot() {
        lag.set(50_000); // a backlog being worked off: its records were ingested ten minutes ago
        send(purchase("a", "2026-11-21T09:50:00Z", "p1", "1.00", "u1"), "2026-11-21T09:50:00Z");
        nextWriteMillis = 600;
        nextWriteWorks = true; // a busy Cassandra: the next flush waits 12 x 0.6 s, processing meanwhile
        flush();
        send(purchase("b", "2026-11-21T09:50:00Z", "p1", "1.00", "u2"), "2026-11-21T09:50:00Z");
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertEquals(1L, sales("minute", "2026-11-21T09:50:00Z", 0), "a slow flush is followed by time to process");
        assertTrue(metrics.flushesHeldBack() > 0, "counted");
        driver.advanceWallClockTime(Duration.ofMillis(2_500));
        assertEquals(2L, sales("minute", "2026-11-21T09:50:00Z", 0), "then it comes");

        nextWriteMillis = 600;
        nextWriteWorks = false; // the same time spent waiting for a Cassandra that was down
        send(purchase("c", "2026-11-21T09:50:00Z", "p1", "1.00", "u3"), "2026-11-21T09:50:00Z");
        flush();
        send(purchase("d", "2026-11-21T09:50:00Z", "p1", "1.00", "u4"), "2026-11-21T09:50:00Z");
        flush();
        assertEquals(4L, sales("minute", "2026-11-21T09:50:00Z", 0), "the next flush comes at the usual interval");
    }

    /**
     * An order of p1 at 10:00 ingested at {@code ingest}, flushed by a sink call that took 0.6 s
     * writing (at 10:00:01 when called first). It leaves {@link #nextWriteWorks} set, so a later
     * {@link #nextWriteMillis} is time spent writing too.
     */
    private void slowFlushOfAnOrderIngestedAt(String ingest) {
        send(purchase("a", "2026-11-21T10:00:00Z", "p1", "1.00", "u1"), ingest);
        nextWriteMillis = 600;
        nextWriteWorks = true;
        flush();
    }

    @Test
    void withRecordsWaitingAPartitionLessThanASecondBehindFlushesAtEveryIntervalWhateverTheLastFlushCost() {
        lag.set(500); // records wait in Kafka for a moment, as after a pause or one slow write
        slowFlushOfAnOrderIngestedAt("2026-11-21T09:59:58Z"); // 3 s behind
        send(purchase("b", "2026-11-21T10:00:00Z", "p1", "1.00", "u2"), "2026-11-21T10:00:01.400Z");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertEquals(2L, sales("minute", "2026-11-21T10:00:00Z", 0), "its newest record 0.1 s old: the flush comes at the interval");
        assertEquals(0, metrics.flushesHeldBack());
    }

    @Test
    void aPartitionWorkingOffABacklogIsHeldBackNoLongerThanItWasBehindAtItsLastFlush() {
        lag.set(50_000);
        slowFlushOfAnOrderIngestedAt("2026-11-21T09:59:58Z"); // 3 s behind; 12 x 0.6 s would be 7.2 s
        send(purchase("b", "2026-11-21T10:00:00Z", "p1", "1.00", "u2"), "2026-11-21T09:59:59Z");
        driver.advanceWallClockTime(Duration.ofMillis(2_500));
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0), "held back while records wait");
        assertTrue(metrics.flushesHeldBack() > 0, "counted");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertEquals(2L, sales("minute", "2026-11-21T10:00:00Z", 0), "3 s after the last flush, as far behind as it was then, it comes");
    }

    @Test
    void withNothingWaitingInKafkaAPartitionFlushesAtEveryIntervalWhateverTheLastFlushCost() {
        lag.set(50_000);
        slowFlushOfAnOrderIngestedAt("2026-11-21T09:59:00Z");
        send(purchase("b", "2026-11-21T10:00:00Z", "p1", "1.00", "u2"), "2026-11-21T09:59:01Z");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertEquals(1L, sales("minute", "2026-11-21T10:00:00Z", 0), "held back while records wait");
        lag.set(0); // the backlog read to its end (its records ingested a minute ago), or a partition caught up
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertEquals(2L, sales("minute", "2026-11-21T10:00:00Z", 0), "holding the flush back would only delay the row");
        nextWriteMillis = 600;
        send(purchase("c", "2026-11-21T10:00:00Z", "p1", "1.00", "u3"), "2026-11-21T10:00:02Z");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        send(purchase("d", "2026-11-21T10:00:00Z", "p1", "1.00", "u4"), "2026-11-21T10:00:02Z");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertEquals(4L, sales("minute", "2026-11-21T10:00:00Z", 0), "every interval, after a slow flush too");
    }

    @Test
    void randomStreamMatchesTheOracleAtEveryLevel() {
        RandomEvents gen = new RandomEvents(42);
        Oracle oracle = new Oracle(WINDOW.toMillis());
        long ingest = Instant.parse("2026-11-21T10:40:00Z").toEpochMilli();
        for (int i = 0; i < 4_000; i++) {
            ingest += 1_500; // spans several hourly slots
            var e = gen.next(ingest, 0.05, 0.05);
            send(e.json(), Instant.ofEpochMilli(ingest).toString());
            oracle.add(new Oracle.Accepted(e.id(), e.type(), e.ts(), e.attrs(), ingest, 0));
            if (i % 500 == 0) {
                flush();
            }
        }
        flush();
        Map<Oracle.GroupKey, Oracle.Expected> expected = oracle.expected(Long.MIN_VALUE, Long.MAX_VALUE);
        Map<Oracle.GroupKey, List<MetricValue>> actual = new HashMap<>();
        sink.rows().forEach((k, w) -> actual.merge(new Oracle.GroupKey(k.view(), k.level(), k.bucket(), k.dims()),
                w.row().aggregate().values(), (a, b) -> {
                    List<MetricValue> sum = new java.util.ArrayList<>();
                    for (int i = 0; i < a.size(); i++) {
                        sum.add(a.get(i).plus(b.get(i)));
                    }
                    return sum;
                }));
        var missing = expected.keySet().stream().filter(k -> !actual.containsKey(k)).limit(5).toList();
        var extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).limit(5).toList();
        assertTrue(missing.isEmpty() && extra.isEmpty(), "missing groups " + missing + ", unexpected groups " + extra);
        expected.forEach((key, x) -> {
            List<MetricValue> v = actual.get(key);
            assertEquals(x.count, v.get(0).read(), key + " count");
            if (key.view().equals("sales")) {
                assertEquals(x.anyAmount ? BigDecimal.valueOf(x.sumCents, 2) : null, v.get(1).read(), key + " revenue");
                assertEquals(x.anyAmount ? BigDecimal.valueOf(x.minCents, 2) : null, v.get(2).read(), key + " min");
                assertEquals(x.anyAmount ? BigDecimal.valueOf(x.maxCents, 2) : null, v.get(3).read(), key + " max");
            }
            MetricValue distinct = v.get(v.size() - 1);
            assertEquals(x.distinct.size(), (Long) distinct.read(), Math.max(1, x.distinct.size() * 0.05), key + " distinct");
        });
    }

    /** Event ids are the sender's: one the log names must not be able to start a forged line. */
    @Test
    void anEventIdInALogLineHasItsControlCharactersEscaped() {
        assertEquals("e1\\u000a12:00:00 ERROR forged\\u000d\\u0007 ok é",
                SpeedProcessor.printable("e1\n12:00:00 ERROR forged\r\u0007 ok é"));
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
