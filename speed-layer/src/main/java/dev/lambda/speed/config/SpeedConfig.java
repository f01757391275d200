package dev.lambda.speed.config;

import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.config.KafkaClientSettings;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.speed.topology.SpeedSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Everything the speed layer is configured with, from flags and {@code LAMBDA_*} environment
 * variables (see {@link #HELP}); turned into Kafka Streams properties only at the edge.
 */
public record SpeedConfig(KafkaClientSettings kafka, CassandraSettings cassandra, Path viewsFile, String applicationId,
                          SpeedSettings topology, Duration ttl, int threads, Path stateDir, String metricsHost, int metricsPort,
                          long cacheBytes, int maxInFlightWrites) {

    public static final String HELP = """
            Usage: speed-layer [options]

            Runs the Kafka Streams speed layer: reads the events topic, keeps per-slot aggregates of every
            view and upserts them into Cassandra's speed_rows_by_slot within about a second. Start more
            instances with the same --application-id to share the topic's partitions.

            Every option can also be given as an environment variable: --slot-width -> LAMBDA_SLOT_WIDTH.

            %2$s\
              --topic NAME                 events topic                                    [events]
              --dlq-topic NAME             dead-letter topic                               [events.dlq]
            %1$s\
              --views FILE                 views definition file                           [config/views.yml]
              --application-id ID          Kafka Streams application id                    [lambda-speed]
              --slot-width DURATION        ingest slot width (the batch's is the same or  [1h]
                                           a multiple of it)
              --slot-grace DURATION        a slot stays open this long after it ends;      [30s or the
                                           at most the slot width                          width if less]
              --dedup-window DURATION      how long an event id is remembered              [24h]
              --future-tolerance DURATION  how far ts may lie after ingest time            [5m]
              --ttl DURATION               TTL of speed rows in Cassandra                  [7d]
              --flush-interval DURATION    how often changed aggregates are written        [250ms]
              --threads N                  stream threads                                  [1]
              --state-dir DIR              local state directory                           [data/speed-state]
              --in-memory-state            keep state stores in memory, not RocksDB        [off]
              --metrics-host ADDRESS       Prometheus /metrics listen address              [all]
              --metrics-port N             Prometheus /metrics port, 0 = off               [9404]
              --cache-bytes N              state store cache size                          [67108864]
              --help                       show this help

            Durations: 250ms, 30s, 5m, 1h, 7d or ISO-8601 (PT1H).
            """.formatted(CassandraSettings.FLAG_HELP, KafkaClientSettings.FLAG_HELP);

    private static final Set<String> SWITCHES = Set.of("help", "in-memory-state");

    public static Set<String> knownFlags() {
        Set<String> known = new HashSet<>(List.of("topic", "dlq-topic", "views", "application-id", "slot-width", "slot-grace", "dedup-window",
                "future-tolerance", "ttl", "flush-interval", "threads", "state-dir", "metrics-host", "metrics-port",
                "cache-bytes"));
        known.addAll(KafkaClientSettings.FLAGS);
        known.addAll(CassandraSettings.FLAGS);
        return known;
    }

    public static Flags flags(String[] args, Map<String, String> env) {
        return Flags.parse(args, env, knownFlags(), SWITCHES);
    }

    public static SpeedConfig from(Flags f) {
        Duration slot = f.duration("slot-width", Duration.ofHours(1));
        IngestSlots slots;
        try {
            slots = new IngestSlots(slot);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--slot-width: " + e.getMessage());
        }
        Duration dedup = f.duration("dedup-window", Duration.ofHours(24));
        Duration flush = f.duration("flush-interval", Duration.ofMillis(250));
        KafkaClientSettings kafka = KafkaClientSettings.from(f);
        SpeedSettings topology;
        try {
            topology = new SpeedSettings(f.string("topic", "events"), f.string("dlq-topic", "events.dlq"), slots,
                    f.duration("slot-grace", min(Duration.ofSeconds(30), slot)), dedup,
                    f.duration("future-tolerance", Duration.ofMinutes(5)), flush, !f.isSet("in-memory-state"),
                    producerMaxRequestSize(kafka) - SpeedSettings.RECORD_OVERHEAD_BYTES);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        Duration ttl = f.duration("ttl", Duration.ofDays(7));
        if (ttl.compareTo(Duration.ofHours(1)) < 0 || ttl.compareTo(Duration.ofDays(3650)) > 0) {
            throw new ConfigException("--ttl must be between 1h and 3650d (it bounds storage; keep it well above the batch interval and the"
                    + " serving layer's --batch-overdue: answers need the speed rows from the published cutoff on), got " + ttl);
        }
        if (ttl.compareTo(slot.multipliedBy(2)) < 0) {
            throw new ConfigException("--ttl must be at least twice --slot-width (" + slot + "), got " + ttl + ": that is a floor (a"
                    + " row written early in a slot must outlive the slot); keep it well above the batch interval too");
        }
        if (topology.eventsTopic().equals(topology.deadLetterTopic())) {
            throw new ConfigException("--dlq-topic must differ from --topic (" + topology.eventsTopic() + "): rejected records would be"
                    + " read again, and rejected again, without end");
        }
        for (String key : kafka.clientProperties().keySet()) {
            if (key.equals(StreamsConfig.PROCESSING_GUARANTEE_CONFIG) || key.endsWith(ConsumerConfig.ISOLATION_LEVEL_CONFIG)) {
                throw new ConfigException("Kafka property " + key + " cannot be changed: the speed layer's rows are exact only with"
                        + " exactly-once processing of committed records");
            }
        }
        int cacheBytes = f.integer("cache-bytes", 64 * 1024 * 1024, 0, Integer.MAX_VALUE);
        return new SpeedConfig(kafka, CassandraSettings.from(f), Path.of(f.string("views", "config/views.yml")),
                f.string("application-id", "lambda-speed"), topology, ttl, f.integer("threads", 1, 1, 64),
                Path.of(f.string("state-dir", "data/speed-state")), metricsHost(f), f.integer("metrics-port", 9404, 0, 65535), cacheBytes, 256);
    }

    /** The metrics endpoint's listen address, {@code null} (left out) for every address (IPv4 and IPv6). */
    private static String metricsHost(Flags f) {
        return f.string("metrics-host", null);
    }

    /** The producer's {@code max.request.size}, as the Kafka properties set it (Kafka's default otherwise). */
    private static int producerMaxRequestSize(KafkaClientSettings kafka) {
        String key = StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        String value = kafka.clientProperties().getOrDefault(key, kafka.clientProperties().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        if (value == null) {
            return 1024 * 1024;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException("Kafka property " + (kafka.clientProperties().containsKey(key) ? key : ProducerConfig.MAX_REQUEST_SIZE_CONFIG)
                    + " must be a number of bytes, got \"" + value + "\"");
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** The Kafka Streams configuration: exactly-once v2, the client pass-through properties last so they win. */
    public Properties streamsProperties() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1_000);
        p.put("processing.exception.handler.global.enabled", true);
        // a flush may wait on Cassandra; keep the group membership meanwhile
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), 600_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 2_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 60_000);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        kafka.clientProperties().forEach(p::put);
        return p;
    }

    /** A short description of where the process connects, for the start-up log line. */
    public List<String> summary() {
        List<String> lines = new ArrayList<>();
        lines.add("kafka " + kafka.bootstrapServers() + " topic " + topology.eventsTopic() + " -> dlq " + topology.deadLetterTopic());
        lines.add("cassandra " + cassandra.contactPoints().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList()
                + " keyspace " + cassandra.keyspace());
        lines.add("views " + viewsFile + ", slot " + topology.slots().width() + " (grace " + topology.slotGrace() + "), dedup " + topology.dedupWindow()
                + ", flush every " + topology.flushInterval());
        return lines;
    }
}
