package dev.lambda.batch.config;

import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.config.KafkaClientSettings;
import dev.lambda.common.time.IngestSlots;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a batch run is configured with, from flags and {@code LAMBDA_*} environment variables
 * (see {@link #HELP}).
 *
 * @param command      ingest | recompute | run | import
 * @param sparkMaster  {@code null} when spark-submit chose the master
 * @param shufflePartitions 0 when not given: spark-submit's {@code spark.sql.shuffle.partitions} stands, else 8
 * @param cutoff       an explicit cutoff, or {@code null} to derive it (DESIGN §4)
 * @param acceptGap    ingest goes on from the oldest record Kafka still has when records it never
 *                     archived are gone (otherwise that fails the run)
 */
public record BatchConfig(String command, KafkaClientSettings kafka, String topic, String master, String checkpoint,
                          CassandraTarget cassandra, String viewsFile, IngestSlots slots, Duration safetyMargin,
                          Instant cutoff, Duration grace, Duration futureTolerance, String sparkMaster,
                          int shufflePartitions, String importPath, String importFormat, int maxInFlightWrites,
                          long ingestBatchRecords, boolean acceptGap, WriteConsistency writeConsistency) {

    public static final List<String> COMMANDS = List.of("ingest", "recompute", "run", "import");

    public static final String HELP = """
            Usage: batch-layer <command> [options]

            Commands:
              ingest     append new Kafka records to the master dataset (Structured Streaming, availableNow)
              recompute  recompute every view from the whole master dataset, publish the new generation
              run        ingest, then recompute: what the schedule calls
              import     append events from JSON-lines or Parquet files to the master dataset

            Runs in-process on local[*] by default; under spark-submit the cluster's master is used.
            Every option can also be given as an environment variable: --safety-margin -> LAMBDA_SAFETY_MARGIN.

              --master PATH                master dataset (local dir, hdfs://, s3a://)    [data/master]
              --checkpoint PATH            ingest checkpoint                               [<master>/_checkpoints/ingest]
            %2$s\
              --topic NAME                 events topic                                     [events]
            %1$s\
              --views FILE                 views definition file                            [config/views.yml]
              --slot-width DURATION        ingest slot width (the speed layer's, or a       [1h]
                                           multiple of it)
              --safety-margin DURATION     cutoff = floor(ingest start - margin, slot)      [5m]
              --ingest-batch-records N     most Kafka records per ingest micro-batch        [1000000]
              --accept-gap                 ingest, run: go on although Kafka deleted        [off]
                                           records never archived (once, after importing
                                           them; command line only, not from the environment)
              --cutoff INSTANT             recompute, run: explicit cutoff (a slot boundary),
                                           e.g. 2026-11-21T00:00:00Z
              --grace DURATION             keep superseded generations this long, and       [1h]
                                           unpublished ones this long after their record's
                                           last renewal (0s only if runs never overlap;
                                           otherwise at least 1s)
              --write-consistency LEVEL    rows and publish: auto, local_quorum or          [auto]
                                           each_quorum (auto: each_quorum when the keyspace
                                           is replicated to more than one datacenter)
              --future-tolerance DURATION  how far ts may lie after ingest time             [5m]
              --spark-master URL           Spark master when not under spark-submit         [local[*]]
              --shuffle-partitions N       spark.sql.shuffle.partitions (given, it beats
                                           spark-submit's --conf)         [--conf's, else 8]
              --input PATH                 import: files to import
              --format json|parquet        import: file format                              [json]
              --help                       show this help

            Durations: 250ms, 30s, 5m, 1h, 7d or ISO-8601 (PT1H).
            """.formatted(CassandraSettings.FLAG_HELP, KafkaClientSettings.FLAG_HELP);

    private static final Set<String> SWITCHES = Set.of("help", "accept-gap");

    /** The flags only some commands take, in the order a command line is checked. */
    private static final Map<String, List<String>> FOR_COMMANDS = new LinkedHashMap<>();

    static {
        FOR_COMMANDS.put("cutoff", List.of("recompute", "run"));
        FOR_COMMANDS.put("input", List.of("import"));
        FOR_COMMANDS.put("format", List.of("import"));
        FOR_COMMANDS.put("accept-gap", List.of("ingest", "run"));
    }

    /** Every flag the batch layer takes (each also as a {@code LAMBDA_*} environment variable). */
    public static Set<String> knownFlags() {
        Set<String> known = new HashSet<>(List.of("master", "checkpoint", "topic", "views", "slot-width", "safety-margin", "cutoff",
                "grace", "future-tolerance", "spark-master", "shuffle-partitions", "input", "format", "ingest-batch-records",
                "write-consistency"));
        known.addAll(KafkaClientSettings.FLAGS);
        known.addAll(CassandraSettings.FLAGS);
        return known;
    }

    public static Flags flags(String[] args, Map<String, String> env) {
        return Flags.parseWithArguments(args, env, knownFlags(), SWITCHES);
    }

    private static boolean takes(String command, String flag) {
        return FOR_COMMANDS.get(flag).contains(command);
    }

    /** Whether the command only archives: it never reads the views file (see Main). */
    public static boolean archives(String command) {
        return command.equals("ingest") || command.equals("import");
    }

    public static BatchConfig from(Flags f) {
        List<String> positional = f.positional();
        if (positional.size() != 1 || !COMMANDS.contains(positional.get(0))) {
            throw new ConfigException("expected one command: " + String.join(", ", COMMANDS) + " (see --help)");
        }
        String command = positional.get(0);
        // on the command line they belong to one run; the environment may hold them for every command a schedule
        // runs, so a command reads only those of these it takes
        FOR_COMMANDS.forEach((flag, commands) -> {
            boolean given = SWITCHES.contains(flag) ? f.onCommandLine(flag) : f.given(flag);
            if (given && !commands.contains(command)) {
                throw new ConfigException("--" + flag + " is for " + String.join(" and ", commands) + ", not " + command);
            }
        });
        IngestSlots slots;
        try {
            slots = new IngestSlots(f.duration("slot-width", Duration.ofHours(1)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--slot-width: " + e.getMessage());
        }
        Instant cutoff = null;
        String cutoffText = takes(command, "cutoff") ? f.string("cutoff", null) : null;
        if (cutoffText != null) {
            try {
                cutoff = Instant.parse(cutoffText);
            } catch (DateTimeParseException e) {
                throw new ConfigException("--cutoff: \"" + cutoffText + "\" is not an ISO-8601 instant like 2026-11-21T00:00:00Z");
            }
            if (!slots.isBoundary(cutoff)) {
                throw new ConfigException("--cutoff " + cutoff + " is not a slot boundary of width " + slots.width());
            }
        }
        Duration grace = f.duration("grace", Duration.ofHours(1));
        if (!grace.isZero() && grace.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigException("--grace must be 0s or at least 1s (a run renews its generation's record every quarter of it"
                    + " while it writes), got " + grace);
        }
        String master = f.string("master", "data/master");
        String format = takes(command, "format") ? f.string("format", "json") : "json";
        if (!format.equals("json") && !format.equals("parquet")) {
            throw new ConfigException("--format must be json or parquet, got " + format);
        }
        String input = takes(command, "input") ? f.string("input", null) : null;
        if (command.equals("import") && input == null) {
            throw new ConfigException("import needs --input PATH");
        }
        return new BatchConfig(command, KafkaClientSettings.from(f), f.string("topic", "events"), master,
                f.string("checkpoint", master + "/_checkpoints/ingest"), CassandraTarget.from(CassandraSettings.from(f)),
                archives(command) ? "config/views.yml" : f.string("views", "config/views.yml"), slots,
                f.duration("safety-margin", Duration.ofMinutes(5)), cutoff,
                grace, f.duration("future-tolerance", Duration.ofMinutes(5)),
                f.string("spark-master", null), f.integer("shuffle-partitions", 0, 1, 100_000), input, format, 64,
                f.integer("ingest-batch-records", 1_000_000, 1, Integer.MAX_VALUE),
                takes(command, "accept-gap") && f.onCommandLine("accept-gap"),
                WriteConsistency.parse(f.string("write-consistency", "auto")));
    }
}
