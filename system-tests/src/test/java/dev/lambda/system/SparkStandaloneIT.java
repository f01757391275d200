package dev.lambda.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.cluster.ForkedServer;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.Ports;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.datasketches.hll.HllSketch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distributed batch path on this machine: a real Spark standalone master and worker started from
 * Spark's jars on loopback, the batch jar submitted through {@code org.apache.spark.deploy.SparkSubmit}
 * (the class behind {@code spark-submit}), its executors in the worker's own JVMs writing Cassandra;
 * the views it publishes equal those of the same run on local Spark.
 */
@ExtendWith(LocalClusterExtension.class)
class SparkStandaloneIT {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final Path SPARK_JARS = Path.of("..", "server-dists", "spark", "target", "lib").toAbsolutePath().normalize();
    private static final Path BATCH_JAR = Path.of("..", "batch-layer", "target", "batch-layer-0.1.0-SNAPSHOT-all.jar")
            .toAbsolutePath().normalize();
    private static final String TOPIC = "standalone_events";
    private static final List<String> SPARK_OPENS = List.of(System.getProperty("spark.jvm.opens", "").trim().split("\\s+"));

    @Test
    void theBatchJarSubmittedToAStandaloneClusterPublishesTheSameViewsAsLocalMode(LocalCluster cluster, @TempDir Path dir)
            throws Exception {
        assertTrue(Files.isRegularFile(BATCH_JAR), BATCH_JAR + " is built by the batch-layer module's package phase");
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(TOPIC, 3, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"))));
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer())) {
            for (TestStream.Outgoing r : new TestStream(7).wave(3000, Instant.now())) {
                producer.send(new ProducerRecord<>(TOPIC, r.key(), r.value()));
            }
        }
        Thread.sleep(2500); // past the 2 s slot of the last record, so both runs' cutoffs cover every record

        Path sparkHome = dir.resolve("spark-home");
        Files.createDirectories(sparkHome);
        Files.createSymbolicLink(sparkHome.resolve("jars"), SPARK_JARS);
        Map<String, String> env = Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13",
                "SPARK_LOG_DIR", dir.resolve("logs").toString());
        int masterPort = Ports.free();
        int masterUi = Ports.free();
        String master = "spark://127.0.0.1:" + masterPort;
        try (ForkedServer sparkMaster = spark("Spark master", "org.apache.spark.deploy.master.Master",
                List.of("--host", "127.0.0.1", "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(masterUi)),
                env, dir.resolve("logs/master.log"));
             ForkedServer worker = spark("Spark worker", "org.apache.spark.deploy.worker.Worker",
                     List.of("--host", "127.0.0.1", "--webui-port", "0", "--cores", "2", "--memory", "2g",
                             "--work-dir", dir.resolve("work").toString(), master),
                     env, dir.resolve("logs/worker.log"))) {
            awaitAliveWorker(sparkMaster, worker, masterUi);

            List<String> submit = new ArrayList<>(List.of("--master", master, "--deploy-mode", "client",
                    "--class", "dev.lambda.batch.Main", "--name", "lambda-batch-it",
                    "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.executor.memory=1g",
                    "--conf", "spark.cores.max=2", "--conf", "spark.ui.enabled=false", BATCH_JAR.toString()));
            submit.addAll(batchArgs(cluster, "standalone", dir.resolve("master-standalone")));
            ForkedServer sparkSubmit = spark("spark-submit", "org.apache.spark.deploy.SparkSubmit", submit, env,
                    dir.resolve("logs/submit.log"));
            int exit;
            try {
                exit = sparkSubmit.awaitExit();
            } finally {
                sparkSubmit.close();
            }
            assertEquals(0, exit, "spark-submit failed; log " + dir.resolve("logs/submit.log") + "\n"
                    + ForkedServer.tail(dir.resolve("logs/submit.log"), 40));
            assertTrue(executorsRan(dir.resolve("work")), "the job should have run on the worker's executors, not in the driver");
        }

        dev.lambda.batch.Main.run(BatchConfig.from(BatchConfig.flags(
                batchArgs(cluster, "local", dir.resolve("master-local")).toArray(String[]::new), Map.of())), VIEWS);

        Map<String, String> standalone = publishedRows(cluster, "standalone");
        Map<String, String> local = publishedRows(cluster, "local");
        assertFalse(standalone.isEmpty(), "the standalone run published rows");
        assertEquals(local, standalone);
    }

    private static ForkedServer spark(String name, String mainClass, List<String> args, Map<String, String> env, Path log) {
        List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
        jvm.addAll(SPARK_OPENS);
        return ForkedServer.start(name, jvm, SPARK_JARS + "/*", mainClass, args, env, log);
    }

    private static List<String> batchArgs(LocalCluster cluster, String keyspace, Path masterPath) {
        var node = cluster.cassandra();
        return List.of("run", "--bootstrap", cluster.bootstrapServers(), "--topic", TOPIC,
                "--cassandra", node.contactPoint().getHostString() + ":" + node.contactPoint().getPort(),
                "--cassandra-dc", node.localDatacenter(), "--keyspace", "standalone_" + keyspace,
                "--views", Path.of("..", "config", "views.yml").toAbsolutePath().normalize().toString(),
                "--master", masterPath.toString(), "--slot-width", "2s", "--safety-margin", "0s", "--shuffle-partitions", "4");
    }

    private static void awaitAliveWorker(ForkedServer master, ForkedServer worker, int masterUi) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!master.isAlive()) {
                throw master.startFailure("it exited");
            }
            if (!worker.isAlive()) {
                throw worker.startFailure("it exited");
            }
            try {
                String json = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUi + "/json/")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                if (json.replace(" ", "").contains("\"aliveworkers\":1")) {
                    return;
                }
            } catch (IOException e) {
                // the master's UI is not up yet
            }
            Thread.sleep(250);
        }
        throw worker.startFailure("no worker registered with the master within 90 s");
    }

    /** Whether the worker launched executors (each gets a folder with its stderr under the work dir). */
    private static boolean executorsRan(Path workDir) throws IOException {
        try (var files = Files.walk(workDir)) {
            return files.anyMatch(p -> p.getFileName().toString().equals("stderr"));
        }
    }

    /** Every published batch row of the keyspace, generation left out, sketches as their estimates. */
    private static Map<String, String> publishedRows(LocalCluster cluster, String keyspace) {
        var node = cluster.cassandra();
        Map<String, String> rows = new TreeMap<>();
        try (CqlSession session = CassandraSessions.open(new CassandraSettings(List.of(node.contactPoint()), node.localDatacenter(),
                "standalone_" + keyspace, Replication.simple(1), null, null))) {
            Map<String, Long> published = new TreeMap<>();
            for (Row r : session.execute("SELECT view_name, version, generation FROM standalone_" + keyspace + ".view_state")) {
                published.put(r.getString("view_name") + "/" + r.getString("version"), r.getLong("generation"));
            }
            assertEquals(VIEWS.views().size(), published.size(), keyspace + ": every view is published");
            for (Row r : session.execute("SELECT view_name, version, generation, level, period, bucket, dims, counts, decimals, sketches"
                    + " FROM standalone_" + keyspace + ".batch_rows")) {
                if (published.get(r.getString("view_name") + "/" + r.getString("version")) != r.getLong("generation")) {
                    continue;
                }
                Map<String, String> sketches = new TreeMap<>();
                r.getMap("sketches", String.class, ByteBuffer.class).forEach((name, bytes) -> {
                    byte[] b = new byte[bytes.remaining()];
                    bytes.duplicate().get(b);
                    sketches.put(name, String.format("%.3f", HllSketch.heapify(b).getEstimate()));
                });
                Map<String, String> decimals = new TreeMap<>();
                r.getMap("decimals", String.class, java.math.BigDecimal.class).forEach((name, v) -> decimals.put(name, v.toPlainString()));
                rows.put(String.join("|", r.getString("view_name"), r.getString("level"), String.valueOf(r.getInstant("period")),
                        String.valueOf(r.getInstant("bucket")), String.valueOf(r.getList("dims", String.class))),
                        new TreeMap<>(r.getMap("counts", String.class, Long.class)) + " " + decimals + " " + sketches);
            }
        }
        return rows;
    }
}
