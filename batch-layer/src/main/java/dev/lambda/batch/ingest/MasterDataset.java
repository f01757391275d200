package dev.lambda.batch.ingest;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The immutable master dataset (DESIGN §1, §7): Parquet, append-only, partitioned by ingest date.
 * {@code kafka/} is written by the ingest stream (its file-sink log makes appends exactly-once);
 * {@code imported/} holds backfills, one folder per import, each written under
 * {@code _imports_under_way/} first and moved into {@code imported/} whole once complete. Every row keeps its source position:
 * Kafka partition, offset and timestamp (the ingest time), and the raw value, with the parsed
 * envelope alongside. Any Hadoop file system path works (local, {@code hdfs://}, {@code s3a://}).
 */
public final class MasterDataset {

    /** Columns of every master row, in order. */
    public static final String[] COLUMNS = {"kafka_partition", "kafka_offset", "ingest_ts", "value", "valid", "reject_reason",
        "reject_detail", "event_id", "event_type", "event_ts", "attrs", "parser_version", "ingest_date"};

    /** The files' schema under {@link #kafkaPath()}: the Kafka position, the raw value, the envelope, the date partition. */
    private static final StructType KAFKA_SCHEMA = schema();
    /** The files' schema under the imports' directory: the same, under one more partition level, the import id. */
    private static final StructType IMPORTED_SCHEMA = schema().add("import_id", DataTypes.StringType);

    private static final String INGEST_MARKER = "/_ingest_state/last_start";
    private static final String IMPORTS_UNDER_WAY = "/_imports_under_way";
    /** Where a recompute moves an import it took for abandoned before deleting it. */
    private static final String IMPORTS_ABANDONED = "/_imports_abandoned";
    /** In an import's folder from its start, written once: a folder without it was not begun by this release's import. */
    private static final String BEGUN = "_begun";
    /** In an import's folder while it runs: written again every {@link #IMPORT_RENEWAL}, its sign of life. */
    private static final String ALIVE = "_alive";
    /** How often a running import shows it is alive. */
    public static final Duration IMPORT_RENEWAL = Duration.ofSeconds(30);
    /** An import silent this long is taken for abandoned (killed): a recompute removes it instead of waiting for it. */
    public static final Duration ABANDONED_AFTER = Duration.ofMinutes(10);
    private static final DateTimeFormatter IMPORT_ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);
    private static final String INGEST_MARKER_NEXT = "/_ingest_state/last_start.tmp";

    private final String root;

    public MasterDataset(String root) {
        this.root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    }

    public String kafkaPath() {
        return root + "/kafka";
    }

    public String importPath(String importId) {
        return root + "/imported/import_id=" + importId;
    }

    /** Where an import is written until it is complete; no read of the dataset looks there. */
    public String importUnderWayPath(String importId) {
        return root + IMPORTS_UNDER_WAY + "/import_id=" + importId;
    }

    /**
     * An import under way: its folder, its start (the ingest time of its rows) and when it last
     * showed it was alive, by the file system's clock (empty for a folder this release did not
     * begin: an earlier release's import, which is never taken for abandoned).
     */
    public record ImportUnderWay(String folder, Instant start, Optional<Instant> lastSignOfLife) {
    }

    /** What became of an import taken for abandoned. */
    public enum Removal {
        /** this run removed it */
        REMOVED,
        /** it was no longer under way: published, or removed by another run, meanwhile */
        GONE,
        /** it could not be moved aside and is still there */
        STILL_THERE
    }

    /**
     * Marks an import under way before it reads anything, so that no recompute starting meanwhile
     * takes a cutoff past its start: its folder is created, and must not exist yet, with a mark
     * written once ({@code _begun}) and its first sign of life ({@code _alive}; readers skip files
     * named {@code _…}).
     */
    public void beginImport(SparkSession spark, String importId) {
        Path path = new Path(importUnderWayPath(importId));
        try {
            FileSystem fs = path.getFileSystem(conf(spark));
            if (fs.exists(path) || !fs.mkdirs(path)) {
                throw new IOException(path + " already exists: another import started in the same millisecond");
            }
            writeMark(fs, new Path(path, BEGUN));
            writeMark(fs, new Path(path, ALIVE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot begin the import", e);
        }
    }

    /**
     * Shows that the import is still running (every {@link #IMPORT_RENEWAL}), so no recompute takes
     * it for abandoned. Never creates the folder again: a folder a recompute moved aside stays gone.
     *
     * @throws IllegalStateException if its folder was taken for abandoned and removed
     */
    public void renewImport(SparkSession spark, String importId) {
        Path folder = new Path(importUnderWayPath(importId));
        try {
            FileSystem fs = folder.getFileSystem(conf(spark));
            requireBegun(fs, folder);
            writeMark(fs, new Path(folder, ALIVE));
        } catch (FileNotFoundException e) {
            throw removed(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot renew the import's sign of life in " + folder, e);
        }
    }

    /** Writes a mark file in a folder that must exist (a non-recursive create: it never makes the folder). */
    private static void writeMark(FileSystem fs, Path mark) throws IOException {
        try (FSDataOutputStream out = fs.createFile(mark).overwrite(true).build()) {
            out.write(Instant.now().toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void requireBegun(FileSystem fs, Path folder) throws IOException {
        if (!fs.exists(new Path(folder, BEGUN))) {
            throw removed(folder);
        }
    }

    private static IllegalStateException removed(Path folder) {
        return new IllegalStateException("this import's folder " + folder + " was removed while it ran: it went without a sign of life"
                + " for longer than a recompute waits (" + ABANDONED_AFTER.toMinutes() + " min) and was taken for abandoned; nothing of"
                + " it is in the master dataset: run the import again");
    }

    /**
     * Removes an import taken for abandoned (see {@link #ABANDONED_AFTER}): first moves its folder
     * aside, in one rename that either this run or the import's own publish wins (on file systems
     * where a rename is atomic), then deletes it. Nothing of it was ever part of the dataset.
     */
    public Removal removeAbandonedImport(SparkSession spark, ImportUnderWay abandoned) {
        Path folder = new Path(abandoned.folder());
        Path aside = new Path(root + IMPORTS_ABANDONED + "/" + folder.getName() + "." + UUID.randomUUID());
        FileSystem fs;
        try {
            fs = folder.getFileSystem(conf(spark));
            fs.mkdirs(aside.getParent());
            if (!fs.rename(folder, aside)) {
                return fs.exists(folder) ? Removal.STILL_THERE : Removal.GONE;
            }
        } catch (FileNotFoundException e) {
            return Removal.GONE;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the abandoned import " + folder, e);
        }
        try {
            fs.delete(aside, true); // aside, nothing reads it: a delete that fails leaves files to remove by hand, no more
        } catch (IOException e) {
            // reported as removed all the same: it holds nothing back any more
        }
        return Removal.REMOVED;
    }

    /**
     * Whether this dataset's file system renames a folder atomically (local and HDFS), which the
     * removal of an abandoned import needs to be sure it never races a publish: elsewhere (S3A, say,
     * which copies) an abandoned import is left for an operator to remove.
     */
    public boolean renamesAtomically(SparkSession spark) {
        try {
            String scheme = new Path(root).getFileSystem(conf(spark)).getScheme();
            return scheme.equals("file") || scheme.equals("hdfs");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Moves a complete import into the dataset, all at once (a rename, on file systems where one is
     * atomic), unless a recompute took it for abandoned and moved it aside meanwhile. Its renewals
     * must have stopped: one landing after the rename would mark it under way again.
     */
    public void publishImport(SparkSession spark, String importId) {
        Path from = new Path(importUnderWayPath(importId));
        Path to = new Path(importPath(importId));
        try {
            FileSystem fs = from.getFileSystem(conf(spark));
            requireBegun(fs, from);
            fs.mkdirs(to.getParent());
            boolean renamed;
            try {
                renamed = fs.rename(from, to);
            } catch (FileNotFoundException e) { // the local file system's way of saying the folder went
                renamed = false;
            }
            if (!renamed) {
                if (!fs.exists(new Path(from, BEGUN))) {
                    throw removed(from);
                }
                throw new IOException("rename of " + from + " to " + to + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the import into the master dataset", e);
        }
        // its marks went with it, so it was never under way without them; readers skip them, so this is tidying only
        try {
            FileSystem fs = to.getFileSystem(conf(spark));
            fs.delete(new Path(to, ALIVE), false);
            fs.delete(new Path(to, BEGUN), false);
        } catch (IOException e) {
            // the import is published: marks left behind are harmless
        }
    }

    /** Removes an import that is not to be published. */
    public void discardImport(SparkSession spark, String importId) {
        Path path = new Path(importUnderWayPath(importId));
        try {
            path.getFileSystem(conf(spark)).delete(path, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + path, e);
        }
    }

    /**
     * The imports under way (or killed without cleaning up), each by the folder it is written in, the
     * time it started, which is the ingest time of its rows (a recompute's cutoff must not pass it
     * before its rows are in the dataset), and the time of its last sign of life.
     */
    public List<ImportUnderWay> importsUnderWay(SparkSession spark) {
        Path folder = new Path(root + IMPORTS_UNDER_WAY);
        List<ImportUnderWay> imports = new ArrayList<>();
        try {
            FileSystem fs = folder.getFileSystem(conf(spark));
            if (!fs.exists(folder)) {
                return imports;
            }
            for (FileStatus status : fs.listStatus(folder)) {
                String name = status.getPath().getName();
                if (name.startsWith("import_id=")) {
                    Optional<Instant> lastSign;
                    try {
                        lastSign = lastSignOfLife(fs.listStatus(status.getPath()));
                    } catch (FileNotFoundException e) {
                        continue; // published or removed since the listing
                    }
                    imports.add(new ImportUnderWay(status.getPath().toString(),
                            importStart(status.getPath(), name.substring("import_id=".length())), lastSign));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder, e);
        }
        imports.sort(Comparator.comparing(ImportUnderWay::folder));
        return imports;
    }

    /** The time of an import's last sign of life, from its folder's files; empty without its {@code _begun} mark. */
    private static Optional<Instant> lastSignOfLife(FileStatus[] files) {
        FileStatus begun = null;
        FileStatus alive = null;
        for (FileStatus file : files) {
            begun = file.getPath().getName().equals(BEGUN) ? file : begun;
            alive = file.getPath().getName().equals(ALIVE) ? file : alive;
        }
        if (begun == null) {
            return Optional.empty();
        }
        return Optional.of(Instant.ofEpochMilli(Math.max(begun.getModificationTime(), alive == null ? 0 : alive.getModificationTime())));
    }

    /** An import's id: its start time, which is the ingest time of its rows. */
    public static String importId(Instant start) {
        return IMPORT_ID.format(start);
    }

    private static Instant importStart(Path folder, String importId) {
        try {
            return IMPORT_ID.parse(importId, Instant::from);
        } catch (DateTimeParseException e) {
            throw new IllegalStateException(folder + " is not an import this release began (its id is not a start time): remove it if"
                    + " no import writes there, or move it into the dataset's imported/ folder if it holds one complete", e);
        }
    }

    private static StructType schema() {
        StructType schema = new StructType()
                .add("kafka_partition", DataTypes.IntegerType)
                .add("kafka_offset", DataTypes.LongType)
                .add("ingest_ts", DataTypes.TimestampType)
                .add("value", DataTypes.BinaryType);
        for (StructField field : EnvelopeColumns.TYPE.fields()) {
            schema = schema.add(field.name(), field.dataType(), true);
        }
        return schema.add("ingest_date", DataTypes.DateType);
    }

    /** Every row of the master dataset; only files committed by the ingest stream or a finished import. */
    public Dataset<Row> read(SparkSession spark) {
        Dataset<Row> all = null;
        for (String path : new String[] {kafkaPath(), root + "/imported"}) {
            if (exists(spark, path)) {
                // read with the schema given, not inferred: files of releases before parser_version was
                // recorded lack the column (null for their rows), and no job reads every file's footer
                Dataset<Row> part = spark.read().schema(path.equals(kafkaPath()) ? KAFKA_SCHEMA : IMPORTED_SCHEMA).parquet(path)
                        .select(java.util.Arrays.stream(COLUMNS).map(functions::col).toArray(org.apache.spark.sql.Column[]::new));
                all = all == null ? part : all.unionByName(part);
            }
        }
        if (all == null) {
            throw new IllegalStateException("the master dataset at " + root + " is empty: run ingest or import first");
        }
        return all;
    }

    /**
     * When the last successful ingest started, or appended the first record of a transaction open
     * then if that was earlier: everything Kafka appended before it is in the dataset (or aborted).
     */
    public Optional<Instant> lastIngestStart(SparkSession spark) {
        for (int look = 0; look < 2; look++) {
            Optional<String> marker = readIfThere(spark, INGEST_MARKER);
            if (marker.isPresent()) {
                return marker.map(Instant::parse);
            }
            // a crash between removing the old marker and renaming the new one into place leaves only the new one, whole
            // (it is written before the old one goes); a crash while writing the very first one leaves it cut short.
            // Looked at twice: an ingest may finish the rename between the two reads
            try {
                Optional<Instant> next = readIfThere(spark, INGEST_MARKER_NEXT).map(Instant::parse);
                if (next.isPresent()) {
                    return next;
                }
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    public void recordIngestStart(SparkSession spark, Instant start) {
        Path marker = new Path(root + INGEST_MARKER);
        Path next = new Path(root + INGEST_MARKER_NEXT);
        try {
            FileSystem fs = marker.getFileSystem(conf(spark));
            if (!fs.exists(marker) && fs.exists(next) && lastIngestStart(spark).isPresent()) {
                fs.rename(next, marker); // a crash left only the new one: it goes into place before it is written over
            }
            try (FSDataOutputStream out = fs.create(next, true)) {
                out.write(start.toString().getBytes(StandardCharsets.UTF_8));
            }
            fs.delete(marker, false); // a rename onto an existing file fails on HDFS
            if (!fs.rename(next, marker)) {
                throw new IOException("rename to " + marker + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + marker, e);
        }
    }

    private Optional<String> readIfThere(SparkSession spark, String file) {
        Path path = new Path(root + file);
        try {
            FileSystem fs = path.getFileSystem(conf(spark));
            if (!fs.exists(path)) {
                return Optional.empty();
            }
            try (FSDataInputStream in = fs.open(path)) {
                return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private static boolean exists(SparkSession spark, String path) {
        Path p = new Path(path);
        try {
            return p.getFileSystem(conf(spark)).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look at " + path, e);
        }
    }

    private static Configuration conf(SparkSession spark) {
        return spark.sparkContext().hadoopConfiguration();
    }
}
