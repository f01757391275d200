package dev.lambda.launcher;

import dev.lambda.cluster.ForkedServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

    private static List<String> jvmOptions(LambdaHome home) {
        List<String> options = new ArrayList<>();
        options.add("-Xmx" + System.getenv().getOrDefault("LAMBDA_BATCH_HEAP", "2g"));
        options.addAll(LambdaHome.SPARK_JVM_OPTIONS);
        options.add("-Dlog4j2.configurationFile=" + home.batchLogConfig().toUri());
        return options;
    }
}
