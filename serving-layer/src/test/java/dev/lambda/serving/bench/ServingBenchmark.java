package dev.lambda.serving.bench;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.SpeedRowsTable;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.Main;
import dev.lambda.serving.config.ServingConfig;
import io.javalin.Javalin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Serving-layer benchmark (not a test): loads 30 days of the sales view (day and hour levels, a
 * published generation, plus speed rows after its cutoff) into a real Cassandra, starts the real
 * server, and drives it with wrk (Debian package) using a realistic mix: last 24 h hourly by
 * country, last 30 days daily, top-10 products over 7 days. Meanwhile it plays a live speed layer:
 * every 250 ms (its flush interval) it rewrites a speed row and records progress, so cached answers
 * keep being invalidated as in production ({@code -Dbench.liveSpeed=false} leaves the rows still).
 * Prints wrk's report. By default every connection sends its next request as soon as it has an
 * answer, which saturates this machine's cores (wrk, server and Cassandra share them);
 * {@code -Dbench.rate=N} paces the connections to offer about N requests a second instead.
 *
 * <p>Run: {@code mvn -pl serving-layer -am verify -DskipTests -Pbench} (needs {@code wrk} on the PATH).
 */
public final class ServingBenchmark {

    public static void main(String[] args) throws Exception {
        // driver and server threads of the stopped app must not keep the benchmark alive, whether it ended or failed
        try {
            run(List.of("wrk", "--version"), "wrk is not installed: apt-get install wrk"); // before anything starts
            run();
        } catch (Exception e) {
            System.err.println("serving benchmark failed: " + e.getMessage());
            System.exit(1);
        }
        System.exit(0);
    }

    private static void run() throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 30);
        int connections = Integer.getInteger("bench.connections", 16);
        // 0: every connection sends its next request as soon as the previous answer is in (saturation);
        // otherwise each connection pauses between requests so that together they offer about this many a second
        int rate = Integer.getInteger("bench.rate", 0);
        Path data = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bench-");
        ViewCatalog views = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
        ViewDefinition sales = views.find("sales").orElseThrow();
        Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
        Instant cutoff = now.minus(Duration.ofHours(2));
        try (LocalCluster cluster = LocalCluster.start(data, 0, 0, 1, false)) {
            var c = cluster.cassandra().contactPoint();
            CassandraSettings settings = new CassandraSettings(List.of(c), cluster.cassandra().localDatacenter(), "bench",
                    Replication.simple(1), null, null);
            long rows;
            try (var session = CassandraSessions.openWithSchema(settings)) {
                rows = load(session, sales, now, cutoff);
            }
            List<String> flags = List.of("--cassandra", c.getHostString() + ":" + c.getPort(), "--keyspace", "bench",
                    "--views", "../config/views.yml", "--api-port", "0", "--host", "127.0.0.1");
            Javalin app = Main.start(ServingConfig.from(ServingConfig.flags(flags.toArray(String[]::new), Map.of())), views);
            var session = CassandraSessions.open(settings);
            var liveSpeed = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "live-speed");
                t.setDaemon(true);
                return t;
            });
            if (Boolean.parseBoolean(System.getProperty("bench.liveSpeed", "true"))) {
                SpeedRowsTable speed = new SpeedRowsTable(session, "bench", Duration.ofDays(7));
                SpeedPartitionsTable progress = new SpeedPartitionsTable(session, "bench");
                java.util.concurrent.atomic.AtomicLong offset = new java.util.concurrent.atomic.AtomicLong();
                liveSpeed.scheduleAtFixedRate(() -> {
                    long next = offset.incrementAndGet();
                    Aggregate a = Aggregate.zero(sales).add(sales, new Event("live", "purchase", now, Map.of("amount", "1.00", "user_id", "u1")));
                    for (int i = 1; i < next % 50; i++) {
                        a = a.add(sales, new Event("live", "purchase", now, Map.of("amount", "1.00", "user_id", "u" + i)));
                    }
                    speed.write(sales, new SpeedRow(Granularity.HOUR, now.minus(Duration.ofHours(1)), List.of("sku-0", "C0"), cutoff, 1, a,
                            Instant.now())).toCompletableFuture().join();
                    progress.write(new SpeedPartitionStatus("bench", 0, next, Instant.now(), 0, Map.of(), Instant.now(), Map.of(), Set.of(),
                            Map.of()),
                            System.currentTimeMillis() * 1_000).toCompletableFuture().join();
                }, 250, 250, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            try {
                Path script = data.resolve("mix.lua");
                Instant day = now.truncatedTo(ChronoUnit.DAYS);
                Files.writeString(script, """
                        local paths = {
                          "/api/v1/views/sales/query?from=%1$s&to=%2$s&granularity=hour&groupBy=country",
                          "/api/v1/views/sales/query?from=%3$s&to=%4$s&granularity=day",
                          "/api/v1/views/sales/query?from=%5$s&to=%4$s&granularity=all&groupBy=product&orderBy=-revenue&limit=10"
                        }
                        local i = 0
                        request = function()
                          i = i + 1
                          return wrk.format("GET", paths[(i %% 3) + 1])
                        end
                        local pause = %6$d
                        if pause > 0 then
                          delay = function()
                            return pause
                          end
                        end
                        """.formatted(now.minus(Duration.ofHours(24)), now, day.minus(Duration.ofDays(30)), day.plus(Duration.ofDays(1)),
                        day.minus(Duration.ofDays(6)), rate == 0 ? 0 : Math.max(1, 1000 * connections / rate)));
                String base = "http://127.0.0.1:" + app.port();
                System.out.printf("serving benchmark: %,d rows of view sales in Cassandra, mix of 3 queries, %d connections%s, %d s, %d cores,"
                        + " speed layer %s%n", rows, connections,
                        rate == 0 ? " (each sends as soon as it has an answer)" : " (each pausing " + Math.max(1, 1000 * connections / rate)
                                + " ms between requests: about " + rate + " req/s offered at most)", seconds, Runtime.getRuntime().availableProcessors(),
                        Boolean.parseBoolean(System.getProperty("bench.liveSpeed", "true")) ? "writing every 250 ms" : "idle");
                run(List.of("wrk", "-t2", "-c" + connections, "-d5s", "-s", script.toString(), base)); // warm-up
                run(List.of("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency", "-s", script.toString(), base));
            } finally {
                liveSpeed.shutdownNow();
                app.stop();
                session.close();
            }
        }
    }

    private static void run(List<String> command) throws Exception {
        run(command, "wrk failed");
    }

    private static void run(List<String> command, String failure) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).inheritIO().start();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(failure + " (" + e.getMessage() + ")", e);
        }
        if (p.waitFor() != 0 && !command.contains("--version")) { // wrk --version exits 1
            throw new IllegalStateException(failure);
        }
    }

    /** 30 days x 20 products x 5 countries at day level, the last 7 days at hour level; speed rows for the last 2 hours. */
    private static long load(com.datastax.oss.driver.api.core.CqlSession session, ViewDefinition view, Instant now, Instant cutoff) {
        Random random = new Random(1);
        BatchRowsTable batch = new BatchRowsTable(session, "bench");
        SpeedRowsTable speed = new SpeedRowsTable(session, "bench", Duration.ofDays(7));
        Semaphore inFlight = new Semaphore(64);
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        long generation = cutoff.toEpochMilli();
        long rows = 0;
        for (Granularity level : List.of(Granularity.DAY, Granularity.HOUR)) {
            Instant first = level == Granularity.DAY ? now.truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(30)) : now.minus(Duration.ofDays(7));
            for (Instant b = first; b.isBefore(now); b = level.nextBucket(b)) {
                for (int p = 0; p < 20; p++) {
                    for (int country = 0; country < 5; country++) {
                        Aggregate a = Aggregate.zero(view);
                        for (int e = 0; e < 3; e++) {
                            a = a.add(view, new Event("x", "purchase", b, Map.of("amount", random.nextInt(10_000) / 100.0 + "",
                                    "user_id", "u" + random.nextInt(5_000))));
                        }
                        List<String> dims = List.of("sku-" + p, "C" + country);
                        inFlight.acquireUninterruptibly();
                        var write = b.isBefore(cutoff)
                                ? batch.write(view, new BatchRow(generation, level, b, dims, a))
                                : speed.write(view, new SpeedRow(level, b, dims, cutoff, 0, a, cutoff.plusSeconds(60)));
                        writes.add(write.toCompletableFuture().whenComplete((ok, err) -> inFlight.release()));
                        rows++;
                    }
                }
            }
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        ViewStateTable states = new ViewStateTable(session, "bench");
        ViewState replacing = states.find(view.name(), view.version()).toCompletableFuture().join().orElse(null);
        if (!states.publish(new ViewState(view.name(), view.version(), generation, cutoff, cutoff, cutoff, rows * 3, 0, rows, 1, null,
                null), replacing, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join()) {
            throw new IllegalStateException("the benchmark's view state changed while it was loaded");
        }
        return rows;
    }
}
