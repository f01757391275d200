package dev.lambda.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft combined mode: broker and controller in one JVM) on
 * loopback, forked from the jars of {@code server-dists/kafka}. Settings suit one node: replication
 * factors and min ISR of 1 for every internal topic, few internal partitions, no initial rebalance
 * delay, no automatic topic creation. Besides its plain listener it has one that takes SASL/PLAIN
 * logins ({@link #SASL_USER}), on a port of its own, for what the layers' Kafka client settings
 * (authentication among them) must reach.
 */
public final class KafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** The one user the SASL listener knows. */
    public static final String SASL_USER = "lambda";
    /** That user's password. */
    public static final String SASL_PASSWORD = "lambda-secret";

    private final ForkedServer server;
    private final int port;
    private final int saslPort;
    private final Path dataDir;

    private KafkaBroker(ForkedServer server, int port, int saslPort, Path dataDir) {
        this.server = server;
        this.port = port;
        this.saslPort = saslPort;
        this.dataDir = dataDir;
    }

    /**
     * Starts a broker, reusing the data in {@code dataDir} if it was formatted before.
     *
     * @param port the client port, or 0 for any free port
     */
    public static KafkaBroker start(Path dataDir, int port) {
        long started = System.nanoTime();
        int clientPort = Ports.resolve(port, "Kafka");
        int controllerPort = Ports.free();
        int saslPort = Ports.free();
        ServerDistribution dist = ServerDistribution.of("kafka");
        Path dir = dataDir.toAbsolutePath();
        Path config = dir.resolve("server.properties");
        Path logConfig = dir.resolve("log4j2.properties");
        Path logFile = dir.resolve("server.log");
        try {
            Files.createDirectories(dir);
            Files.writeString(config, serverProperties(dir, clientPort, controllerPort, saslPort));
            Files.writeString(logConfig, LOG4J2);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write Kafka config under " + dir, e);
        }
        if (!Files.exists(dir.resolve("kafka-logs").resolve("meta.properties"))) {
            ForkedServer.runTool("Kafka storage format", dist.classpath(), "kafka.tools.StorageTool",
                    List.of("format", "-t", Uuid.randomUuid().toString(), "-c", config.toString(), "--ignore-formatted"),
                    dir.resolve("format.log"), 60);
        }
        ForkedServer server = ForkedServer.start("Kafka", List.of(
                        "-Xms128m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                        "-Dlog4j2.configurationFile=" + logConfig.toUri()),
                dist.classpath(), "kafka.Kafka", List.of(config.toString()), logFile);
        KafkaBroker broker = new KafkaBroker(server, clientPort, saslPort, dir);
        try {
            broker.awaitReady();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        LOG.info("Kafka ready at {} in {} ms (log: {})", broker.bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), logFile);
        return broker;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The listener that takes SASL/PLAIN logins (without TLS: loopback only). */
    public String saslBootstrapServers() {
        return "127.0.0.1:" + saslPort;
    }

    /** The client properties that log in to {@link #saslBootstrapServers()} as {@link #SASL_USER} with {@code password}. */
    public static Map<String, String> saslClientProperties(String password) {
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + SASL_USER
                        + "\" password=\"" + password + "\";");
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return server.logFile();
    }

    /** A new admin client for this broker; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    /** Whether the broker is still running (it has not exited, been killed or been stopped). */
    public boolean isAlive() {
        return server.isAlive();
    }

    @Override
    public void close() {
        server.close();
    }

    /** Ends the broker as a crash would (SIGKILL); {@link #start} on the same directory and client port brings it back. */
    public void kill() {
        server.kill();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        while (!Ports.isListening(port)) {
            if (!server.isAlive()) {
                throw server.startFailure("the broker process exited");
            }
            if (System.nanoTime() > deadline) {
                throw server.startFailure("port " + port + " did not open within " + START_TIMEOUT.toSeconds() + " s");
            }
            sleep(100);
        }
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!server.isAlive()) {
                    throw server.startFailure("the broker process exited");
                }
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not up yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw server.startFailure("interrupted while waiting");
                }
                if (System.nanoTime() > deadline) {
                    throw server.startFailure("no answer to describeCluster within " + START_TIMEOUT.toSeconds() + " s");
                }
                sleep(100);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String serverProperties(Path dir, int port, int controllerPort, int saslPort) {
        return String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort
                        + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms=PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " user_" + SASL_USER + "=\"" + SASL_PASSWORD + "\";",
                "log.dirs=" + dir.resolve("kafka-logs"),
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "share.coordinator.state.topic.num.partitions=1",
                "group.initial.rebalance.delay.ms=0",
                "num.network.threads=2",
                "num.io.threads=4",
                "num.recovery.threads.per.data.dir=1",
                "background.threads=4",
                "log.retention.hours=168",
                "") ;
    }

    private static final String LOG4J2 = """
            status = warn
            appender.console.type = Console
            appender.console.name = STDOUT
            appender.console.layout.type = PatternLayout
            appender.console.layout.pattern = [%d] %p %m (%c)%n
            rootLogger.level = INFO
            rootLogger.appenderRef.console.ref = STDOUT
            logger.statechange.name = state.change.logger
            logger.statechange.level = WARN
            logger.request.name = kafka.request.logger
            logger.request.level = WARN
            """;
}
