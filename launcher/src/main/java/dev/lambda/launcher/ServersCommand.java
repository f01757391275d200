package dev.lambda.launcher;

import dev.lambda.cluster.ForkedServer;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.common.config.Flags;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** {@code ./lambda servers}: the embedded real Kafka and Cassandra, with the system topics, until Ctrl-C. */
final class ServersCommand {

    static final String HELP = """
            usage: ./lambda servers [flags]
            Starts a real Kafka broker (KRaft) with the topics events and events.dlq, and a real Cassandra
            node, on loopback, until Ctrl-C. Data and server logs stay under --data for the next start.
              --kafka-port N               Kafka client port                               [9092]
              --cassandra-port N           Cassandra native port                           [9042]
              --partitions N               partitions of the events topic (first start)    [3]
              --data DIR                   data and logs (servers/kafka, servers/cassandra) [data]
              --help                       show this help
            Every option can also be given as an environment variable: --kafka-port -> LAMBDA_KAFKA_PORT.
            """;

    static final Set<String> FLAGS = Set.of("kafka-port", "cassandra-port", "data");

    private ServersCommand() {
    }

    static int run(String[] args) throws InterruptedException {
        Flags flags = Flags.parse(args, System.getenv(), union(FLAGS, Set.of("partitions")), Set.of("help"));
        if (flags.isSet("help")) {
            System.out.print(HELP);
            return 0;
        }
        int kafkaPort = flags.integer("kafka-port", 9092, 1, 65535);
        int cassandraPort = flags.integer("cassandra-port", 9042, 1, 65535);
        int partitions = flags.integer("partitions", 3, 1, 1000);
        Path data = Path.of(flags.string("data", "data")).toAbsolutePath();
        Console.say("starting Kafka on 127.0.0.1:" + kafkaPort + " and Cassandra on 127.0.0.1:" + cassandraPort
                + " (data and logs under " + data.resolve("servers") + ")");
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        AtomicReference<LocalCluster> started = new AtomicReference<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            LocalCluster running = started.get();
            if (running != null) { // before that, the servers' own hooks stop what was starting
                Console.say("stopping Kafka and Cassandra");
                running.close();
            }
            stopped.countDown();
        }, "stop-servers"));
        LocalCluster cluster;
        try {
            cluster = LocalCluster.start(data.resolve("servers"), kafkaPort, cassandraPort, partitions, false);
        } catch (RuntimeException e) {
            if (stopping.get()) {
                return 130; // Ctrl-C while starting
            }
            throw e;
        }
        started.set(cluster);
        // from here Ctrl-C stops them through the cluster, each given its time to shut down (a Cassandra flushing its
        // memtables, a Kafka closing its logs), rather than also by their own hooks, which end them after 10 s
        ForkedServer.letOwnerStopFirst(Duration.ofSeconds(90));
        Console.say("ready: Kafka " + cluster.bootstrapServers() + ", Cassandra " + hostPort(cluster)
                + "; Ctrl-C stops both");
        while (!stopped.await(2, TimeUnit.SECONDS)) {
            Optional<String> gone = cluster.stoppedServer();
            if (gone.isPresent() && !stopping.get()) {
                Console.say("stopping: " + gone.get());
                return 1; // the shutdown hook stops the other one
            }
        }
        return 0;
    }

    static String hostPort(LocalCluster cluster) {
        var point = cluster.cassandra().contactPoint();
        return point.getHostString() + ":" + point.getPort();
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        var all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
