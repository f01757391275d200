package dev.lambda.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.cluster.KafkaBroker;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.speed.SpeedLayer;
import dev.lambda.speed.config.SpeedConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka with authentication (SASL/PLAIN on the test broker's second listener): the client settings
 * given with {@code --kafka-property} reach every Kafka client of the speed layer (Kafka Streams'
 * consumers, producers and admin, the layer's own checks) and of the batch layer (its checks and
 * Spark's Kafka source), so both count every event; a wrong password fails the batch run, saying the
 * login failed, instead of waiting for a broker it cannot use.
 */
@ExtendWith(LocalClusterExtension.class)
class KafkaAuthenticationIT {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final String TOPIC = "sasl_events";
    private static final String KEYSPACE = "sasl";
    private static final int EVENTS = 300;

    @Test
    void bothLayersCountEveryEventThroughAnAuthenticatedListenerAndAWrongPasswordFailsTheRunSayingSo(LocalCluster cluster,
            @TempDir Path dir) throws Exception {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(TOPIC, LocalClusterExtension.TEST_EVENT_PARTITIONS, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime")), new NewTopic("sasl_dlq", 1, (short) 1)));
        }
        String sasl = cluster.kafka().saslBootstrapServers();
        Map<String, Object> producerConfig = new HashMap<>(KafkaBroker.saslClientProperties(KafkaBroker.SASL_PASSWORD));
        producerConfig.putAll(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, sasl, ProducerConfig.ACKS_CONFIG, "all"));
        Instant now = Instant.now();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < EVENTS; i++) {
                String json = "{\"id\":\"sasl-" + i + "\",\"type\":\"page_view\",\"ts\":\"" + now.minusSeconds(i) + "\",\"attrs\":{\"page\":\"/p"
                        + (i % 7) + "\",\"country\":\"NP\",\"user_id\":\"u" + (i % 11) + "\"}}";
                sent.add(producer.send(new ProducerRecord<>(TOPIC, "k" + i, json)));
            }
            for (var s : sent) {
                s.get(); // a producer that cannot log in fails here, not as a count of 0
            }
        }

        try (SpeedLayer speed = SpeedLayer.start(SpeedConfig.from(SpeedConfig.flags(args(cluster, KafkaBroker.SASL_PASSWORD,
                "--topic", TOPIC, "--dlq-topic", "sasl_dlq", "--application-id", "sasl-speed", "--slot-width", "2s", "--state-dir",
                dir.resolve("speed-state").toString(), "--metrics-port", "0"), Map.of())), VIEWS);
                CqlSession session = CassandraSessions.open(new CassandraSettings(List.of(cluster.cassandra().contactPoint()),
                        cluster.cassandra().localDatacenter(), KEYSPACE, Replication.simple(1), null, null))) {
            SpeedCatchUp.await(cluster, TOPIC, speed, Duration.ofSeconds(90));
            long speedViews = 0;
            for (var row : session.execute("SELECT counts FROM " + KEYSPACE + ".speed_rows_by_slot WHERE view_name = 'pageviews'"
                    + " AND level = 'minute' ALLOW FILTERING")) {
                speedViews += row.getMap(0, String.class, Long.class).get("views");
            }
            assertEquals(EVENTS, speedViews, "the speed layer counted every event");
            Thread.sleep(2_100); // the 2 s slot of the last event closes: the batch's cutoff passes every event

            ByteArrayOutputStream wrongErr = new ByteArrayOutputStream();
            int wrongExit = dev.lambda.batch.Main.execute(args(cluster, "not-the-password", batchFlags(dir)), Map.of(),
                    new PrintStream(wrongErr, true, StandardCharsets.UTF_8));
            String said = wrongErr.toString(StandardCharsets.UTF_8);
            assertEquals(1, wrongExit, said);
            assertTrue(said.contains("Authentication failed"), said);

            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int exit = dev.lambda.batch.Main.execute(args(cluster, KafkaBroker.SASL_PASSWORD, batchFlags(dir)), Map.of(),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
            var published = session.execute("SELECT events_in FROM " + KEYSPACE + ".view_state WHERE view_name = 'pageviews'").one();
            assertNotNull(published, "nothing published: " + err.toString(StandardCharsets.UTF_8));
            assertEquals(EVENTS, published.getLong(0), "the batch archived and counted every event");
        }
    }

    private static String[] batchFlags(Path dir) {
        return new String[] {"run", "--topic", TOPIC, "--master", dir.resolve("master").toString(), "--slot-width", "2s",
            "--safety-margin", "0s", "--shuffle-partitions", "4", "--spark-master", "local[2]"};
    }

    /** The layers' flags for the SASL listener, logging in with {@code password}, plus {@code extra}. */
    private static String[] args(LocalCluster cluster, String password, String... extra) {
        List<String> all = new ArrayList<>(List.of("--bootstrap", cluster.kafka().saslBootstrapServers()));
        KafkaBroker.saslClientProperties(password).forEach((k, v) -> all.addAll(List.of("--kafka-property", k + "=" + v)));
        all.addAll(List.of(extra));
        return LayerArgs.withCassandra(cluster, KEYSPACE, all.toArray(String[]::new));
    }
}
