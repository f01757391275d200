package dev.lambda.cluster;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Entry point of a forked server JVM: runs the server's real main class and exits (running the
 * server's own shutdown hooks) as soon as the parent process is gone, which it notices by its
 * standard input reaching end-of-file. So a killed test run or launcher never leaves a Kafka or
 * Cassandra behind holding ports. Depends on the JDK only.
 */
public final class OrphanGuard {

    private OrphanGuard() {
    }

    public static void main(String[] args) throws Exception {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the parent never writes; keep reading until the pipe closes
                }
            } catch (IOException e) {
                // a broken pipe means the parent is gone too
            }
            System.exit(0);
        }, "orphan-guard");
        watcher.setDaemon(true);
        watcher.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
