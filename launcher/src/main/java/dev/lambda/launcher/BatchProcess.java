package dev.lambda.launcher;

import dev.lambda.cluster.ForkedServer;
import dev.lambda.common.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The batch layer in its own JVM with Spark's jars and JVM options: in the foreground, or logged. */
final class BatchProcess {

    private static final String MAIN = "dev.lambda.batch.Main";

    private BatchProcess() {
    }

    /** {@code ./lambda batch …}: runs with this terminal, returns the batch's exit code. */
    static int runInForeground(LambdaHome home, String[] args) throws InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions(home));
        command.add("-cp");
        command.add(home.batchClasspath());
        command.add(MAIN);
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).inheritIO().start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "stop-batch"));
            return process.waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the batch layer's JVM", e);
        }
    }

    /** Starts one batch command with its output appended to {@code logFile}. */
    static ForkedServer start(LambdaHome home, List<String> args, Path logFile) {
        return ForkedServer.start("batch " + args.get(0), jvmOptions(home), home.batchClasspath(), MAIN, args, logFile);
    }

    /** The batch JVM's heap, {@code LAMBDA_BATCH_HEAP} (default 2g), checked here rather than left to the JVM's own refusal. */
    static String heap(Map<String, String> env) {
        String heap = env.getOrDefault("LAMBDA_BATCH_HEAP", "2g").trim();
        if (!heap.matches("[1-9][0-9]*[mMgGtT]")) { // in megabytes or more: the JVM refuses a heap of kilobytes
            throw new ConfigException("LAMBDA_BATCH_HEAP must be a heap size like 2g or 1536m, got \"" + heap + "\"");
        }
        return heap;
    }

    private static List<String> jvmOptions(LambdaHome home) {
        List<String> options = new ArrayList<>();
        options.add("-Xmx" + heap(System.getenv()));
        options.addAll(LambdaHome.SPARK_JVM_OPTIONS);
        options.add("-Dlog4j2.configurationFile=" + home.batchLogConfig().toUri());
        return options;
    }
}
