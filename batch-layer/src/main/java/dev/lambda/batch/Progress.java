package dev.lambda.batch;

import java.io.PrintStream;
import java.util.Locale;

/** Progress lines of a batch run on stderr: phase, rows, elapsed time since the run started. */
public final class Progress {

    private final PrintStream out;
    private final long started = System.nanoTime();

    public Progress(PrintStream out) {
        this.out = out;
    }

    public void line(String phase, long rows, String what) {
        out.printf(Locale.ROOT, "[batch] %-10s %,12d  %-60s %7.1f s%n", phase, rows, what, (System.nanoTime() - started) / 1e9);
        out.flush();
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - started) / 1e9;
    }
}
