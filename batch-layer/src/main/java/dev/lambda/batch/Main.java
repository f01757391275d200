package dev.lambda.batch;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.ingest.FileImport;
import dev.lambda.batch.ingest.KafkaIngest;
import dev.lambda.batch.recompute.Publisher;
import dev.lambda.batch.recompute.Recompute;
import dev.lambda.batch.spark.SparkSessions;
import dev.lambda.batch.store.ExecutorSessions;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.kafka.EventsTopic;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewConfigException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;

/**
 * The batch layer's one entry point, for spark-submit and in-process runs alike:
 * {@code ingest | recompute | run | import}. Exit code 0 on success, 2 for bad configuration,
 * 1 for a failed run, always with a one-line reason on stderr.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        int exit = execute(args, System.getenv(), System.err);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    /** Runs the command the arguments name; @return the exit code, its progress lines and one-line reason on {@code err} */
    public static int execute(String[] args, Map<String, String> env, PrintStream err) {
        BatchConfig config;
        ViewCatalog views = new ViewCatalog(List.of());
        ViewConfigException viewsError = null;
        try {
            Flags flags = BatchConfig.flags(args, env);
            if (flags.isSet("help")) {
                System.out.print(BatchConfig.HELP);
                return 0;
            }
            config = BatchConfig.from(flags);
            // archiving never waits on the views file: a mistake in it must not hold Kafka's records back while retention runs
            boolean archiveOnly = BatchConfig.archives(config.command());
            if (!archiveOnly) {
                try {
                    views = new ViewCatalogLoader().load(Path.of(config.viewsFile()));
                } catch (ViewConfigException e) {
                    if (!config.command().equals("run")) {
                        throw e;
                    }
                    viewsError = e; // the scheduled run still archives, then fails
                }
            }
        } catch (ConfigException | ViewConfigException e) {
            err.println("batch-layer: " + e.getMessage());
            return 2;
        }
        try {
            if (viewsError != null) {
                try {
                    run(config, views, "ingest", err);
                } catch (ConfigException e) {
                    err.println("batch-layer: run: " + e.getMessage() + " (and the views file is broken: " + viewsError.getMessage() + ")");
                    return 2;
                } catch (RuntimeException e) {
                    err.println("batch-layer: run failed: " + oneLine(e) + " (and the views file is broken: " + viewsError.getMessage() + ")");
                    return 1;
                }
                err.println("batch-layer: run: Kafka's records are archived, but no recompute ran: " + viewsError.getMessage());
                return 2;
            }
            run(config, views, config.command(), err);
            return 0;
        } catch (ConfigException e) {
            err.println("batch-layer: " + config.command() + ": " + e.getMessage());
            return 2;
        } catch (Exception e) { // Spark throws checked exceptions (AnalysisException) unchecked
            err.println("batch-layer: " + config.command() + " failed: " + oneLine(e));
            return 1;
        }
    }

    /** Runs one command to completion (used by Main and by in-process launchers). */
    public static void run(BatchConfig config, ViewCatalog views) {
        run(config, views, config.command(), System.err);
    }

    private static void run(BatchConfig config, ViewCatalog views, String command, PrintStream err) {
        if (command.equals("ingest") || command.equals("run")) {
            EventsTopic.requireBrokerTimestamps(config.kafka(), config.topic()); // before Spark starts for nothing
        }
        Progress progress = new Progress(err);
        SparkSession spark = SparkSessions.create(config);
        try {
            switch (command) {
                case "ingest" -> KafkaIngest.run(spark, config, progress);
                case "import" -> FileImport.run(spark, config, progress);
                case "recompute" -> recompute(spark, config, views, progress, Optional.empty());
                case "run" -> {
                    Instant start = KafkaIngest.run(spark, config, progress);
                    recompute(spark, config, views, progress, Optional.of(start));
                }
                default -> throw new IllegalArgumentException("unknown command " + command);
            }
            progress.line("done", 0, command + " finished");
        } finally {
            spark.stop();
            ExecutorSessions.closeAll();
        }
    }

    private static void recompute(SparkSession spark, BatchConfig config, ViewCatalog views, Progress progress, Optional<Instant> start) {
        try (CqlSession session = CassandraSessions.openWithSchema(config.cassandra().settings())) {
            ViewStateTable states = new ViewStateTable(session, config.cassandra().keyspace());
            Publisher publisher = (s, replacing, level) -> states.publish(s, replacing, level).toCompletableFuture().join();
            new Recompute(spark, config, views, session, publisher, progress).run(start);
        }
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
