package dev.lambda.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server (or any long-running program) in its own JVM, with its output in a log file. Stopping it
 * sends SIGTERM (so it shuts down cleanly), then kills it if it does not exit in time; a JVM shutdown
 * hook does the same if the owner never stops it, and {@link OrphanGuard} ends it if this JVM dies.
 */
public final class ForkedServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForkedServer.class);
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private final String name;
    private final Process process;
    private final Path logFile;
    private final Thread shutdownHook;

    /** How long a shutdown hook lets the owner stop the process first (see {@link #letOwnerStopFirst}). */
    private static volatile Duration ownerGrace = Duration.ZERO;

    private ForkedServer(String name, Process process, Path logFile) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
        this.shutdownHook = new Thread(() -> {
            try {
                if (!ownerGrace.isZero() && process.waitFor(ownerGrace.toMillis(), TimeUnit.MILLISECONDS)) {
                    return; // the owner stopped it, in its own order
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stop(10);
        }, "stop-" + name);
        try {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        } catch (IllegalStateException e) { // this JVM is already shutting down: nobody would ever stop it
            process.destroyForcibly();
            throw new IllegalStateException("not starting " + name + ": shutting down", e);
        }
    }

    /**
     * For owners that stop their processes in an order of their own on JVM shutdown (the demo: layers
     * before servers): the per-process shutdown hooks then wait up to {@code grace} for that before
     * stopping what is left themselves.
     */
    public static void letOwnerStopFirst(Duration grace) {
        ownerGrace = grace;
    }

    /** Starts {@code mainClass} in a new JVM guarded by {@link OrphanGuard}. */
    public static ForkedServer start(String name, List<String> jvmOptions, String classpath, String mainClass,
                              List<String> args, Path logFile) {
        return start(name, jvmOptions, classpath, mainClass, args, Map.of(), logFile);
    }

    /** As {@link #start(String, List, String, String, List, Path)}, with extra environment variables. */
    public static ForkedServer start(String name, List<String> jvmOptions, String classpath, String mainClass,
                                     List<String> args, Map<String, String> environment, Path logFile) {
        List<String> command = javaCommand(jvmOptions, classpath + java.io.File.pathSeparator + OrphanGuardLocation.get());
        command.add(OrphanGuard.class.getName());
        command.add(mainClass);
        command.addAll(args);
        return new ForkedServer(name, launch(command, environment, logFile), logFile);
    }

    /** Runs a command-line tool of a server distribution to completion, failing with its output if it fails. */
    static void runTool(String name, String classpath, String mainClass, List<String> args, Path logFile, long timeoutSeconds) {
        List<String> command = javaCommand(List.of("-Xmx256m"), classpath);
        command.add(mainClass);
        command.addAll(args);
        Process process = launch(command, Map.of(), logFile);
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(name + " did not finish in " + timeoutSeconds + " s; see " + logFile);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name + " interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(name + " failed with exit code " + process.exitValue() + "; see " + logFile
                    + "\n" + tail(logFile, 20));
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path logFile() {
        return logFile;
    }

    /** Waits for the program to end by itself; its exit code. */
    public int awaitExit() throws InterruptedException {
        return process.waitFor();
    }

    /** A failure to start, naming the server, the reason and where its log is, with the log's last lines. */
    public IllegalStateException startFailure(String reason) {
        return new IllegalStateException(name + " did not start: " + reason + " (exit code "
                + (process.isAlive() ? "none, still running" : process.exitValue()) + "); log: " + logFile
                + "\n--- last lines of " + logFile.getFileName() + " ---\n" + tail(logFile, 30));
    }

    @Override
    public void close() {
        stop(30);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running or has run
        }
    }

    /** Ends the server at once with SIGKILL, as a crash would: no shutdown of its own. */
    public void kill() {
        try {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    private void stop(long graceSeconds) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                LOG.warn("{} did not stop within {} s of SIGTERM; killing it", name, graceSeconds);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> javaCommand(List<String> jvmOptions, String classpath) {
        String javaHome = System.getenv().getOrDefault("LAMBDA_SERVER_JAVA_HOME", System.getProperty("java.home"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(javaHome, "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath);
        return command;
    }

    private static Process launch(List<String> command, Map<String, String> environment, Path logFile) {
        try {
            Files.createDirectories(logFile.getParent());
            // in a session of its own where setsid exists: Ctrl-C in a terminal reaches only the owner,
            // which stops its processes in order (OrphanGuard still ends them if the owner dies)
            List<String> line = new ArrayList<>(command);
            if (Files.isExecutable(SETSID)) {
                line.add(0, SETSID.toString());
            }
            ProcessBuilder builder = new ProcessBuilder(line);
            builder.environment().putAll(environment);
            return builder
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
    }

    public static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }
}
