package dev.lambda.batch.it;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.batch.Main;
import dev.lambda.batch.config.BatchConfig;
import dev.lambda.batch.testing.MasterRows;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.Replication;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.batch.testing.BatchOracle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One batch-layer scenario on the shared real cluster: its own topic, keyspace and master dataset;
 * produces seeded random events (duplicates, late events, malformed records) and remembers each
 * one's broker-assigned ingest time, partition and offset for the oracle.
 */
final class BatchFixture implements AutoCloseable {

    static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));

    final LocalCluster cluster;
    final String name;
    final Path master;
    final List<MasterRows.Event> sent = new ArrayList<>();
    private final Random random;
    private final KafkaProducer<byte[], byte[]> producer;
    final CqlSession session;
    int malformed;

    BatchFixture(LocalCluster cluster, String name, Path dir, long seed) {
        this(cluster, name, dir, seed, Replication.simple(1));
    }

    /** A scenario whose keyspace has {@code replication}. */
    BatchFixture(LocalCluster cluster, String name, Path dir, long seed, Replication replication) {
        this.cluster = cluster;
        this.name = name;
        this.master = dir.resolve("master");
        this.random = new Random(seed);
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(topic(), 3, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"))));
        }
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer());
        session = CassandraSessions.openWithSchema(new CassandraSettings(List.of(cluster.cassandra().contactPoint()),
                cluster.cassandra().localDatacenter(), keyspace(), replication, null, null));
    }

    String topic() {
        return "batch_" + name;
    }

    String keyspace() {
        return "batch_" + name;
    }

    List<String> args(String command, String... extra) {
        var c = cluster.cassandra().contactPoint();
        List<String> args = new ArrayList<>(List.of(command, "--bootstrap", cluster.bootstrapServers(), "--topic", topic(),
                "--master", master.toString(), "--cassandra", c.getHostString() + ":" + c.getPort(),
                "--cassandra-dc", cluster.cassandra().localDatacenter(), "--keyspace", keyspace(),
                "--views", "../config/views.yml", "--slot-width", "1s", "--safety-margin", "0s", "--spark-master", "local[2]",
                "--shuffle-partitions", "4"));
        args.addAll(List.of(extra));
        return args;
    }

    BatchConfig config(String command, String... extra) {
        return BatchConfig.from(BatchConfig.flags(args(command, extra).toArray(String[]::new), Map.of()));
    }

    /** Produces n records (~1% malformed); valid ones are remembered with their broker timestamp. */
    void produce(int n) throws Exception {
        List<MasterRows.Event> events = MasterRows.random(random.nextLong(), n, Instant.now().minusMillis(n * 700L));
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        List<MasterRows.Event> pending = new ArrayList<>();
        for (MasterRows.Event e : events) {
            boolean broken = !e.valid();
            String json = broken ? "{\"id\": \"" + e.id() : json(e);
            acks.add(producer.send(new ProducerRecord<>(topic(), random.nextInt(3), null, json.getBytes(StandardCharsets.UTF_8))));
            pending.add(e);
        }
        producer.flush();
        for (int i = 0; i < acks.size(); i++) {
            RecordMetadata m = acks.get(i).get(30, TimeUnit.SECONDS);
            MasterRows.Event e = pending.get(i);
            if (!e.valid()) {
                malformed++;
            }
            sent.add(new MasterRows.Event(e.id(), e.type(), e.ts(), e.attrs(), Instant.ofEpochMilli(m.timestamp()), m.partition(),
                    m.offset(), e.valid()));
        }
    }

    /**
     * Produces {@code rounds} rounds of {@code n} records, each followed by a pause past the next
     * second. @return after each round, the cutoff with 1 s slots that takes in every record sent so far
     */
    List<Instant> produceRounds(int rounds, int n) throws Exception {
        List<Instant> cutoffs = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            produce(n);
            Thread.sleep(1_100);
            cutoffs.add(sent.stream().map(MasterRows.Event::ingest).max(Instant::compareTo).orElseThrow()
                    .truncatedTo(ChronoUnit.SECONDS).plusSeconds(1));
        }
        return cutoffs;
    }

    /** Produces n records, archives them and publishes every view at the cutoff after them. @return that cutoff */
    String publishedOnce(int n) throws Exception {
        String cutoff = produceRounds(1, n).get(0).toString();
        Main.run(config("ingest"), VIEWS);
        Main.run(config("recompute", "--cutoff", cutoff), VIEWS);
        return cutoff;
    }

    /** The views file with each {@code from} replaced by the {@code to} after it: a view whose definition changed has a new version. */
    static ViewCatalog viewsWith(String... fromTo) throws IOException {
        String yaml = Files.readString(Path.of("..", "config", "views.yml"));
        for (int i = 0; i < fromTo.length; i += 2) {
            if (!yaml.contains(fromTo[i])) {
                throw new IllegalArgumentException("views.yml has no " + fromTo[i]);
            }
            yaml = yaml.replace(fromTo[i], fromTo[i + 1]);
        }
        return new ViewCatalogLoader().parse(yaml);
    }

    static String json(MasterRows.Event e) {
        StringBuilder a = new StringBuilder();
        e.attrs().forEach((k, v) -> a.append(a.isEmpty() ? "" : ",").append('"').append(k).append("\":\"").append(v).append('"'));
        return "{\"id\":\"" + e.id() + "\",\"type\":\"" + e.type() + "\",\"ts\":\"" + e.ts() + "\",\"attrs\":{" + a + "}}";
    }

    ViewState published(String view) {
        ViewDefinition v = VIEWS.find(view).orElseThrow();
        return new ViewStateTable(session, keyspace()).find(v.name(), v.version()).toCompletableFuture().join().orElseThrow();
    }

    /** Differences between a generation's rows in Cassandra and the oracle at its cutoff; empty when exact. */
    List<String> differences(long generation, Instant cutoff) {
        return differences(sent, generation, cutoff);
    }

    /**
     * The same for every view's published generation (a view published over its retired state has
     * an id of its own), all of the same cutoff.
     */
    List<String> publishedDifferences(Instant cutoff) {
        return differences(sent, view -> published(view.name()).generation(), cutoff);
    }

    /** The same against {@code events} instead of every event sent. */
    List<String> differences(List<MasterRows.Event> events, long generation, Instant cutoff) {
        return differences(events, view -> generation, cutoff);
    }

    private List<String> differences(List<MasterRows.Event> events, java.util.function.ToLongFunction<ViewDefinition> generationOf,
                                     Instant cutoff) {
        Map<BatchOracle.Key, BatchOracle.Expected> expected = BatchOracle.expected(events, cutoff);
        BatchRowsTable rows = new BatchRowsTable(session, keyspace());
        Map<BatchOracle.Key, List<MetricValue>> actual = new HashMap<>();
        for (ViewDefinition view : VIEWS.views()) {
            long generation = generationOf.applyAsLong(view);
            for (var level : view.levels()) {
                java.util.Set<Instant> periods = new java.util.TreeSet<>();
                expected.keySet().stream().filter(k -> k.view().equals(view.name()) && k.level().equals(level.id()))
                        .forEach(k -> periods.add(level.periodOf(k.bucket())));
                for (Instant period : periods) {
                    for (var r : rows.read(view, generation, level, period).toCompletableFuture().join()) {
                        actual.put(new BatchOracle.Key(view.name(), level.id(), r.bucket(), r.dims()), r.aggregate().values());
                    }
                }
            }
        }
        List<String> diffs = new ArrayList<>();
        expected.forEach((key, x) -> {
            List<MetricValue> v = actual.get(key);
            if (v == null) {
                diffs.add(key + " missing");
                return;
            }
            if (!v.get(0).read().equals(x.count)) {
                diffs.add(key + " count " + x.count + " vs " + v.get(0).read());
            }
            if (key.view().equals("sales") && !(java.util.Objects.equals(x.sum(), v.get(1).read())
                    && java.util.Objects.equals(x.min(), v.get(2).read()) && java.util.Objects.equals(x.max(), v.get(3).read()))) {
                diffs.add(key + " revenue/min/max " + x.sum() + "/" + x.min() + "/" + x.max() + " vs " + v.get(1).read() + "/"
                        + v.get(2).read() + "/" + v.get(3).read());
            }
            long estimate = (Long) v.get(v.size() - 1).read();
            if (Math.abs(estimate - x.distinct.size()) > Math.max(1, x.distinct.size() * 0.05)) {
                diffs.add(key + " distinct ~" + x.distinct.size() + " vs " + estimate);
            }
        });
        actual.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> diffs.add(k + " unexpected"));
        return diffs;
    }

    @Override
    public void close() {
        producer.close();
        session.close();
    }
}
