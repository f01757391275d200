package dev.lambda.launcher;

import dev.lambda.cluster.ForkedServer;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.Ports;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.config.KafkaClientSettings;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewConfigException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code ./lambda demo}: the whole system on one machine. Embedded real Kafka and Cassandra, the
 * speed and serving layers from their own jars, the event generator, and the batch layer run on a
 * schedule, so a person sees the batch take over from the speed layer. Ctrl-C stops it all.
 */
final class DemoCommand {

    static final String HELP = """
            usage: ./lambda demo [flags]
            Starts real Kafka and Cassandra on loopback, the speed layer, the REST API, an event generator and
            the batch layer every --batch-every, then prints the API address and example queries. Ctrl-C stops
            everything. Each part logs to <data>/logs/; the servers to <data>/servers/*/server.log.
              --views FILE                 views definition file                            [config/views.yml]
              --no-generator               do not generate events (send your own to topic events)
              --rate N                     generated events per second                      [200]
              --batch-every DURATION|off   batch run interval (ingest + recompute)          [2m]
              --slot DURATION              ingest slot width: how finely the batch cutoff moves [1m]
              --kafka-port N               Kafka port                                       [9092]
              --cassandra-port N           Cassandra port                                   [9042]
              --api-port N                 REST API port                                    [7070]
              --data DIR                   data and logs                                    [data]
              --help                       show this help
            Every option can also be given as an environment variable: --rate -> LAMBDA_RATE.
            """;

    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private DemoCommand() {
    }

    static int run(String[] args) throws InterruptedException {
        Flags flags = flags(args, System.getenv());
        if (flags.isSet("help")) {
            System.out.print(HELP);
            return 0;
        }
        LambdaHome home = LambdaHome.locate();
        Settings settings = Settings.from(flags, home.defaultViews());
        int kafkaPort = Ports.resolve(settings.kafkaPort(), "Kafka");
        int cassandraPort = Ports.resolve(settings.cassandraPort(), "Cassandra");
        int apiPort = Ports.resolve(settings.apiPort(), "API");
        Path logs = settings.data().resolve("logs");

        Demo demo = new Demo(home, settings.data(), logs);
        Runtime.getRuntime().addShutdownHook(new Thread(demo::stop, "stop-demo"));
        try {
            demo.start(kafkaPort, cassandraPort, apiPort, settings.views(), settings.slot(), settings.batchEvery().orElse(null),
                    settings.rate());
        } catch (RuntimeException e) {
            if (demo.stopping) {
                return 130; // Ctrl-C while starting: what failed to start was stopped, not broken
            }
            throw e;
        }
        return demo.watch();
    }

    static Flags flags(String[] args, Map<String, String> env) {
        Set<String> known = ServersCommand.union(ServersCommand.FLAGS, Set.of("views", "rate", "batch-every", "slot", "api-port"));
        return Flags.parse(args, env, known, Set.of("help", "no-generator"));
    }

    /**
     * The demo's flags, every one checked before anything starts, so a mistake is named at once
     * rather than as a part failing to start a minute later.
     *
     * @param rate       generated events per second, 0 for none
     * @param batchEvery empty for no batch runs
     */
    record Settings(int kafkaPort, int cassandraPort, int apiPort, Path views, Duration slot, Optional<Duration> batchEvery, int rate,
                    Path data) {

        static Settings from(Flags flags, Path defaultViews) {
            BatchProcess.heap(System.getenv()); // before anything starts, not at the first batch run
            Path views = Path.of(flags.string("views", defaultViews.toString())).toAbsolutePath();
            if (!Files.isRegularFile(views)) {
                throw new ConfigException("--views: " + views + " is not a file");
            }
            try {
                new ViewCatalogLoader().load(views);
            } catch (ViewConfigException e) {
                throw new ConfigException("--views: " + e.getMessage());
            }
            Duration slot = flags.duration("slot", Duration.ofMinutes(1));
            try {
                new IngestSlots(slot);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--slot: " + e.getMessage());
            }
            Optional<Duration> batchEvery = flags.string("batch-every", "2m").equals("off") ? Optional.empty()
                    : Optional.of(flags.duration("batch-every", Duration.ofMinutes(2)));
            if (batchEvery.isPresent() && batchEvery.get().toMillis() < 1) {
                throw new ConfigException("--batch-every must be at least 1ms, or off, got " + flags.string("batch-every", ""));
            }
            int rate = flags.isSet("no-generator") ? 0 : flags.integer("rate", 200, 1, 1_000_000);
            int kafkaPort = flags.integer("kafka-port", 9092, 1, 65535);
            int cassandraPort = flags.integer("cassandra-port", 9042, 1, 65535);
            int apiPort = flags.integer("api-port", 7070, 1, 65535);
            if (kafkaPort == cassandraPort || apiPort == kafkaPort || apiPort == cassandraPort) {
                throw new ConfigException("--kafka-port, --cassandra-port and --api-port must differ, got " + kafkaPort + ", "
                        + cassandraPort + " and " + apiPort);
            }
            return new Settings(kafkaPort, cassandraPort, apiPort, views, slot, batchEvery, rate,
                    Path.of(flags.string("data", "data")).toAbsolutePath());
        }
    }

    /** A duration as the flags write it: 90s, 2m, 1h, 250ms. */
    static String flagText(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    /** The running parts, started in order and stopped in reverse. */
    private static final class Demo {

        private final LambdaHome home;
        private final Path data;
        private final Path logs;
        private final CountDownLatch stopped = new CountDownLatch(1);
        private final AtomicInteger batchRuns = new AtomicInteger();
        private volatile boolean stopping;
        private volatile LocalCluster cluster;
        private ForkedServer speed;
        private ForkedServer serving;
        private volatile GeneratorRun generator;
        /** How long the generator waits after its sends failed before it sends again. */
        private static final Duration GENERATOR_RETRY = Duration.ofSeconds(5);
        private ScheduledExecutorService scheduler;
        private volatile ForkedServer batch;

        Demo(LambdaHome home, Path data, Path logs) {
            this.home = home;
            this.data = data;
            this.logs = logs;
        }

        void start(int kafkaPort, int cassandraPort, int apiPort, Path views, Duration slot, Duration batchEvery, int rate)
                throws InterruptedException {
            Console.say("starting Kafka and Cassandra (first start takes ~20 s)");
            cluster = LocalCluster.start(data.resolve("servers"), kafkaPort, cassandraPort, 3, false);
            // from here the demo stops layers before servers; a Ctrl-C before this stops the servers at once
            ForkedServer.letOwnerStopFirst(Duration.ofSeconds(90));
            String bootstrap = cluster.bootstrapServers();
            String cassandra = ServersCommand.hostPort(cluster);
            // a data directory of an earlier release: its tables are brought up to date before any layer starts, with the
            // settings the layers will take (they read LAMBDA_KEYSPACE and the like from the environment they inherit)
            CassandraSettings tables = CassandraSettings.from(Flags.parse(new String[] {"--cassandra", cassandra}, System.getenv(),
                    new java.util.HashSet<>(CassandraSettings.FLAGS), Set.of()));
            SchemaCommand.upgrade(tables);
            List<String> common = List.of("--bootstrap", bootstrap, "--cassandra", cassandra, "--views", views.toString());

            int metricsPort = apiPort == 9404 || Ports.isListening(9404) ? Ports.free() : 9404;
            Console.say("starting the speed layer");
            speed = ForkedServer.start("speed layer", List.of("-Xmx1g"), home.layerJar("speed-layer").toString(),
                    "dev.lambda.speed.Main", concat(common, "--slot-width", flagText(slot), "--state-dir",
                            data.resolve("speed-state").toString(), "--metrics-host", "127.0.0.1", "--metrics-port",
                            Integer.toString(metricsPort)),
                    logs.resolve("speed.log"));
            awaitHttp(speed, "http://127.0.0.1:" + metricsPort + "/metrics");

            Console.say("starting the serving layer");
            serving = ForkedServer.start("serving layer", List.of("-Xmx1g"), home.layerJar("serving-layer").toString(),
                    "dev.lambda.serving.Main", List.of("--cassandra", cassandra, "--views", views.toString(),
                            "--host", "127.0.0.1", "--api-port", Integer.toString(apiPort)),
                    logs.resolve("serve.log"));
            String api = "http://127.0.0.1:" + apiPort;
            awaitHttp(serving, api + "/ready");

            if (rate > 0) {
                EventGenerator events = new EventGenerator(System.nanoTime(), 0.01, 0.02, 0.001);
                Thread thread = new Thread(() -> generate(bootstrap, events, rate), "generator");
                thread.setDaemon(true);
                thread.start();
            }
            if (batchEvery != null) {
                scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "batch-schedule");
                    t.setDaemon(true);
                    return t;
                });
                List<String> batchArgs = concat(List.of("run"), concat(common, "--master", data.resolve("master").toString(),
                        "--slot-width", flagText(slot), "--safety-margin", "5s", "--grace", "5m"));
                scheduler.scheduleAtFixedRate(() -> runBatch(batchArgs, api), batchEvery.toMillis(), batchEvery.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
            printWelcome(api, bootstrap, cassandra, tables.keyspace(), metricsPort, rate, batchEvery);
        }

        private void runBatch(List<String> args, String api) {
            if (stopping) {
                return;
            }
            int run = batchRuns.incrementAndGet();
            long started = System.nanoTime();
            Console.say("batch run #" + run + ": ingest + recompute (log: " + logs.resolve("batch.log") + ")");
            try {
                ForkedServer process;
                synchronized (this) {
                    if (stopping) {
                        return;
                    }
                    process = BatchProcess.start(home, args, logs.resolve("batch.log"));
                    batch = process;
                }
                int exit = process.awaitExit();
                process.close(); // ended: its shutdown hook goes
                long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
                if (exit == 0) {
                    Console.say("batch run #" + run + ": published in " + seconds + " s; batch views now cover events ingested before "
                            + publishedCutoff(api) + ", the speed layer the rest (" + api + "/api/v1/status)");
                } else if (!stopping) {
                    String tail = ForkedServer.tail(logs.resolve("batch.log"), 5);
                    Console.say("batch run #" + run + ": FAILED with exit code " + exit + " after " + seconds + " s; last lines of "
                            + logs.resolve("batch.log") + ":\n" + tail);
                    if (tail.contains("once with --accept-gap")) { // records Kafka deleted before any run archived them
                        List<String> flags = args.subList(1, args.size()).stream().map(a -> a.contains(" ") ? "'" + a + "'" : a).toList();
                        Console.say("to go on from what Kafka still holds (the records it deleted stay out of every view): stop the demo"
                                + " (Ctrl-C); start its servers alone, ./lambda servers --data '" + data + "' --kafka-port "
                                + cluster.kafka().port() + " --cassandra-port " + cluster.cassandra().contactPoint().getPort()
                                + ", and while they run, in another terminal, run once ./lambda batch run --accept-gap "
                                + String.join(" ", flags) + "; then stop the servers (Ctrl-C) and start the demo again");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                Console.say("batch run #" + run + ": could not start: " + e.getMessage());
            }
        }

        /** The batch cutoff the serving layer reports now, for the console line. */
        private static String publishedCutoff(String api) {
            try {
                HttpResponse<String> status = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api + "/api/v1/status"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"batchCutoff\":\"([^\"]+)\"").matcher(status.body());
                return m.find() ? m.group(1) : "its cutoff";
            } catch (IOException e) {
                return "its cutoff";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "its cutoff";
            }
        }

        /** Waits until Ctrl-C or a part dies; the exit code. */
        int watch() throws InterruptedException {
            while (!stopped.await(2, TimeUnit.SECONDS)) {
                String why = null;
                if (!speed.isAlive()) {
                    why = "the speed layer exited; see " + speed.logFile();
                }
                if (why == null && !serving.isAlive()) {
                    why = "the serving layer exited; see " + serving.logFile();
                }
                if (why == null) {
                    why = cluster.stoppedServer().orElse(null);
                }
                if (why != null && !stopping) {
                    Console.say("stopping: " + why);
                    return 1;
                }
            }
            return 0;
        }

        /**
         * Generates until the demo stops. Sends that fail (a laptop that slept past the producer's
         * delivery timeout, a broker that stalled) do not stop the demo: the generator says so and
         * sends again with a new producer after a pause. A Kafka that is gone stops the demo anyway.
         */
        private void generate(String bootstrap, EventGenerator events, int rate) {
            while (!stopping) {
                GeneratorRun run = new GeneratorRun(new KafkaClientSettings(bootstrap, Map.of()), "events", events, rate, 0,
                        line -> Console.say("generator: " + line));
                generator = run;
                if (stopping) { // stop() may have stopped the run before this one
                    return;
                }
                try {
                    run.run();
                    return; // stopped
                } catch (RuntimeException e) {
                    if (stopping) {
                        return;
                    }
                    Console.say("generator: " + e.getMessage() + "; sending again in " + GENERATOR_RETRY.toSeconds() + " s");
                }
                try {
                    Thread.sleep(GENERATOR_RETRY.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() {
            synchronized (this) {
                stopping = true; // no batch starts after this
            }
            if (cluster == null) { // nothing of the demo's started yet: the servers' own hooks stop what was starting
                stopped.countDown();
                return;
            }
            Console.say("stopping the demo");
            if (generator != null) {
                generator.stop();
            }
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            closeQuietly(batch);
            closeQuietly(speed);
            closeQuietly(serving);
            if (cluster != null) {
                cluster.close();
            }
            Console.say("stopped; data stays under " + data + " for the next start");
            stopped.countDown();
        }

        private static void closeQuietly(ForkedServer server) {
            if (server != null) {
                server.close();
            }
        }

        private void awaitHttp(ForkedServer server, String url) throws InterruptedException {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (!server.isAlive()) {
                    throw server.startFailure("it exited");
                }
                try {
                    HttpResponse<Void> response = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() == 200) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            throw server.startFailure(url + " did not answer 200 within " + START_TIMEOUT.toSeconds() + " s");
        }

        private void printWelcome(String api, String bootstrap, String cassandra, String keyspace, int metricsPort, int rate,
                                  Duration batchEvery) {
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            String day = "from=" + today + "&to=" + today.plusDays(1);
            System.out.println("""

                    lambda demo is running
                      dashboard      %1$s/
                      API            %1$s/api/v1/views    (browsable docs: %1$s/docs)
                      Kafka          %2$s   (topic events; rejects in events.dlq)
                      Cassandra      %3$s   (keyspace %10$s)
                      speed metrics  http://127.0.0.1:%4$d/metrics
                      generator      %5$s
                      batch          %6$s
                      logs           %7$s/{speed,serve,batch}.log, %8$s/{kafka,cassandra}/server.log

                    try:
                      curl '%1$s/api/v1/views/pageviews/query?%9$s&granularity=minute&groupBy=country&metrics=views'
                      curl '%1$s/api/v1/views/sales/query?%9$s&granularity=all&groupBy=product&orderBy=-revenue&limit=5'
                      curl -H 'Accept: text/csv' '%1$s/api/v1/views/activity/query?%9$s&granularity=hour'
                      curl '%1$s/api/v1/status'

                    Ctrl-C stops everything.
                    """.formatted(api, bootstrap, cassandra, metricsPort,
                    rate > 0 ? rate + " events/s (1%% re-sent duplicates, 2%% late, 0.1%% malformed)".replace("%%", "%") : "off",
                    batchEvery == null ? "off" : "ingest + recompute every " + flagText(batchEvery) + ", the first in " + flagText(batchEvery),
                    logs, data.resolve("servers"), day, keyspace));
        }

        private static List<String> concat(List<String> head, String... tail) {
            List<String> all = new ArrayList<>(head);
            all.addAll(List.of(tail));
            return all;
        }

        private static List<String> concat(List<String> head, List<String> tail) {
            List<String> all = new ArrayList<>(head);
            all.addAll(tail);
            return all;
        }
    }
}
