package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.batch.Progress;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.recompute.CutoffChoice;
import dev.lambda.batch.testing.TestSpark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backfills into the master dataset, as {@code import} runs them, and the markers a recompute reads there. */
class FileImportTest {

    private static final SparkSession SPARK = TestSpark.get();

    @TempDir
    Path root;

    private MasterDataset master() {
        return new MasterDataset(root.resolve("master").toString());
    }

    private void importFiles(Path input, String format) {
        BatchConfig config = BatchConfig.from(BatchConfig.flags(new String[] {"import", "--input", input.toString(), "--format", format,
            "--master", root.resolve("master").toString()}, Map.of()));
        FileImport.run(SPARK, config, new Progress(System.err));
    }

    private List<String> importFolders() throws IOException {
        Path imported = root.resolve("master/imported");
        if (!Files.exists(imported)) {
            return List.of();
        }
        try (Stream<Path> folders = Files.list(imported)) {
            return folders.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void timestampsWithoutATimeZoneAsPandasWritesThemAreReadAsUtc() throws IOException {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("type", DataTypes.StringType)
                .add("ts", DataTypes.TimestampNTZType).add("attrs", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));
        Path input = root.resolve("export.parquet");
        SPARK.createDataFrame(List.of(RowFactory.create("e1", "page_view", LocalDateTime.parse("2026-11-20T10:15:03.120"),
                        Map.of("page", "/a"))), schema)
                .write().parquet(input.toString());
        assertEquals(DataTypes.TimestampNTZType, SPARK.read().parquet(input.toString()).schema().apply("ts").dataType(),
                "the file holds a timestamp without a time zone");
        importFiles(input, "parquet");
        List<Row> rows = master().read(SPARK).select(col("valid"), col("event_id"), col("event_ts")).collectAsList();
        assertEquals(1, rows.size());
        assertTrue(rows.get(0).getBoolean(0), rows.toString());
        assertEquals(Instant.parse("2026-11-20T10:15:03.120Z"), rows.get(0).getTimestamp(2).toInstant());
        assertEquals(1, importFolders().size());
        assertTrue(master().importsUnderWay(SPARK).isEmpty(), "nothing left under way");
    }

    @Test
    void anImportWhoseEveryRowIsRejectedFailsNamingWhyAndLeavesNothing() throws IOException {
        Path input = root.resolve("events.json");
        Files.writeString(input, "{\"id\":\"a\",\"type\":\"page_view\",\"ts\":1763633703}\n"
                + "{\"id\":\"b\",\"type\":\"page_view\",\"ts\":17}\n", StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> importFiles(input, "json"));
        assertTrue(e.getMessage().startsWith("every one of the 2 rows of " + input + " was rejected (bad_ts 2 (e.g. "), e.getMessage());
        assertTrue(e.getMessage().endsWith("nothing imported; check --format (json) and the files' columns"), e.getMessage());
        assertEquals(List.of(), importFolders());
        assertTrue(master().importsUnderWay(SPARK).isEmpty());

        Files.writeString(input, "{\"id\":\"a\",\"type\":\"page_view\",\"ts\":\"2026-11-20T10:00:00Z\"}\nnot json\n",
                StandardCharsets.UTF_8);
        importFiles(input, "json");
        assertEquals(2, master().read(SPARK).count(), "a rejected row among valid ones is kept, flagged, as ingest keeps them");
        assertEquals(1, master().read(SPARK).filter(col("valid")).count());
    }

    @Test
    void anImportThatFailsOrFindsNothingLeavesNothingUnderWay() throws IOException {
        RuntimeException missing = assertThrows(RuntimeException.class, () -> importFiles(root.resolve("no-such-file.json"), "json"));
        assertTrue(missing.getMessage().contains("no-such-file.json"), missing.getMessage());
        assertTrue(master().importsUnderWay(SPARK).isEmpty(), "a failed import holds no cutoff back");
        Path empty = Files.writeString(root.resolve("empty.json"), "");
        assertEquals("no rows in " + empty + ": nothing imported",
                assertThrows(IllegalArgumentException.class, () -> importFiles(empty, "json")).getMessage());
        assertTrue(master().importsUnderWay(SPARK).isEmpty());
        assertEquals(List.of(), importFolders());
    }

    @Test
    void anImportLeftUnderWayIsFoundWithItsStart() throws IOException {
        Instant start = Instant.parse("2026-11-20T10:00:00.250Z");
        Files.createDirectories(Path.of(master().importUnderWayPath(MasterDataset.importId(start))));
        List<MasterDataset.ImportUnderWay> underWay = master().importsUnderWay(SPARK);
        assertEquals(1, underWay.size());
        assertEquals(start, underWay.get(0).start());
        assertEquals(Optional.empty(), underWay.get(0).lastSignOfLife(), "an earlier release's import: no sign of life to go by");
        assertFalse(CutoffChoice.abandoned(underWay.get(0), Instant.now().plus(Duration.ofDays(30))), "so it is never taken for killed");
        assertTrue(underWay.get(0).folder().endsWith("_imports_under_way/import_id=20261120T100000250Z"), underWay.toString());
    }

    /** A killed import no longer holds every cutoff back until someone removes it; one taken for killed by mistake is never published. */
    @Test
    void aRunningImportShowsItIsAliveAndOneRemovedAsAbandonedIsNeverPublished() throws IOException {
        MasterDataset master = master();
        String id = MasterDataset.importId(Instant.now());
        master.beginImport(SPARK, id);
        MasterDataset.ImportUnderWay fresh = master.importsUnderWay(SPARK).get(0);
        assertFalse(CutoffChoice.abandoned(fresh, Instant.now()), "just begun: " + fresh);
        Path folder = Path.of(master.importUnderWayPath(id));
        FileTime longAgo = FileTime.from(Instant.now().minus(MasterDataset.ABANDONED_AFTER).minusSeconds(60));
        Files.setLastModifiedTime(folder.resolve("_alive"), longAgo);
        Files.setLastModifiedTime(folder.resolve("_begun"), longAgo);
        assertTrue(CutoffChoice.abandoned(master.importsUnderWay(SPARK).get(0), Instant.now()), "silent for longer than it may be");
        master.renewImport(SPARK, id);
        assertFalse(CutoffChoice.abandoned(master.importsUnderWay(SPARK).get(0), Instant.now()), "alive again once renewed");

        // as a recompute does with one silent too long
        assertEquals(MasterDataset.Removal.REMOVED, master.removeAbandonedImport(SPARK, master.importsUnderWay(SPARK).get(0)));
        assertFalse(Files.exists(folder));
        IllegalStateException renew = assertThrows(IllegalStateException.class, () -> master.renewImport(SPARK, id));
        assertTrue(renew.getMessage().contains("was removed while it ran") && renew.getMessage().contains("run the import again"),
                renew.getMessage());
        assertFalse(Files.exists(folder), "a renewal never makes the folder again");
        Files.createDirectories(folder.resolve("ingest_date=2026-11-20")); // a write still under way puts files back
        assertThrows(IllegalStateException.class, () -> master.renewImport(SPARK, id), "its mark of beginning is not among them");
        assertFalse(Files.exists(folder.resolve("_alive")));
        assertThrows(IllegalStateException.class, () -> master.publishImport(SPARK, id));
        assertEquals(List.of(), importFolders(), "nothing of it in the dataset");

        // an import that publishes just as a recompute takes it for killed: one of the two renames wins
        String other = MasterDataset.importId(Instant.now().plusSeconds(1));
        master.beginImport(SPARK, other);
        MasterDataset.ImportUnderWay seen = master.importsUnderWay(SPARK).stream().filter(i -> i.folder().endsWith(other)).findFirst()
                .orElseThrow();
        master.publishImport(SPARK, other);
        assertEquals(MasterDataset.Removal.GONE, master.removeAbandonedImport(SPARK, seen));
        assertEquals(List.of("import_id=" + other), importFolders(), "published whole, its marks tidied away");
        try (Stream<Path> files = Files.list(root.resolve("master/imported/import_id=" + other))) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.contains("_alive") || n.contains("_begun"))
                    .toList());
        }
    }

    @Test
    void anImportSilentForLongerThanARecomputeWaitsIsTakenForKilled() {
        Instant now = Instant.parse("2026-11-21T10:00:00Z");
        Instant start = Instant.parse("2026-11-21T09:00:00Z");
        assertFalse(CutoffChoice.abandoned(new MasterDataset.ImportUnderWay("f", start,
                Optional.of(now.minus(MasterDataset.ABANDONED_AFTER))), now));
        assertTrue(CutoffChoice.abandoned(new MasterDataset.ImportUnderWay("f", start,
                Optional.of(now.minus(MasterDataset.ABANDONED_AFTER).minusMillis(1))), now));
    }

    @Test
    void theIngestMarkerSurvivesACrashWhileItIsReplaced() throws IOException {
        MasterDataset master = master();
        assertEquals(Optional.empty(), master.lastIngestStart(SPARK));
        Instant first = Instant.parse("2026-11-20T10:00:00Z");
        Instant second = Instant.parse("2026-11-20T11:00:00Z");
        master.recordIngestStart(SPARK, first);
        master.recordIngestStart(SPARK, second);
        assertEquals(Optional.of(second), master.lastIngestStart(SPARK));
        Path state = root.resolve("master/_ingest_state");
        // a crash after the old marker went and before the new one was renamed into place
        Files.writeString(state.resolve("last_start.tmp"), "2026-11-20T12:00:00Z");
        Files.delete(state.resolve("last_start"));
        assertEquals(Optional.of(Instant.parse("2026-11-20T12:00:00Z")), master.lastIngestStart(SPARK));
        // a crash while the very first marker was written
        Files.writeString(state.resolve("last_start.tmp"), "2026-11-2");
        assertEquals(Optional.empty(), master.lastIngestStart(SPARK));
        assertFalse(Files.exists(state.resolve("last_start")));
    }
}
