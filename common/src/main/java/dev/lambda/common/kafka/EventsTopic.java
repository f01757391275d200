package dev.lambda.common.kafka;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.KafkaClientSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.InvalidOffsetException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both layers require of the events topic before they read it (DESIGN §4): it exists and the
 * broker stamps its records ({@code message.timestamp.type=LogAppendTime}), so that a record's
 * timestamp is its ingest time. With producer timestamps ({@code CreateTime}) slots and the cutoff
 * would follow the producers' clocks, and events could land behind a published cutoff: counted by
 * neither layer, or by both.
 */
public final class EventsTopic {

    private static final Logger LOG = LoggerFactory.getLogger(EventsTopic.class);
    private static final long TIMEOUT_SECONDS = 30;

    private EventsTopic() {
    }

    /**
     * Checks the topic's timestamp type on the cluster.
     *
     * @throws ConfigException if the topic is missing or not stamped by the broker
     * @throws IllegalStateException if Kafka does not answer
     */
    public static void requireBrokerTimestamps(KafkaClientSettings kafka, String topic) {
        String create = "create it with " + TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG + "=LogAppendTime (README: Order of first start)";
        topicConfig(kafka, topic, create, "uses LogAppendTime").ifPresent(config -> {
                    ConfigEntry type = config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
                    requireLogAppendTime(topic, type == null ? null : type.value());
                });
    }

    /**
     * Checks that the dead-letter topic exists and takes records as large as the producer may send
     * there. Otherwise the first reject would fail its task over and over (the same record is
     * processed again after each failure), holding its partition with no word of why.
     *
     * @param largestRequest the producer's {@code max.request.size}
     * @throws ConfigException if the topic is missing or its {@code max.message.bytes} is smaller
     * @throws IllegalStateException if Kafka does not answer
     */
    public static void requireDeadLetterTopic(KafkaClientSettings kafka, String topic, int largestRequest) {
        topicConfig(kafka, topic, "create it (README: Order of first start) or name another with --dlq-topic",
                "takes records of " + largestRequest + " bytes").ifPresent(config -> {
                    ConfigEntry size = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                    if (size != null && size.value() != null && Long.parseLong(size.value()) < largestRequest) {
                        throw new ConfigException("dead-letter topic " + topic + " takes records of at most " + size.value() + " bytes ("
                                + TopicConfig.MAX_MESSAGE_BYTES_CONFIG + "), and a reject may be sent with up to the producer's "
                                + largestRequest + " (max.request.size): raise the topic's " + TopicConfig.MAX_MESSAGE_BYTES_CONFIG
                                + ", or lower max.request.size with --kafka-property");
                    }
                });
    }

    /**
     * The topic's configuration; empty when this principal may not describe it (then what it was
     * checked for is only logged: a principal allowed to use a topic is not refused for that).
     */
    private static Optional<Config> topicConfig(KafkaClientSettings kafka, String topic, String whenMissing, String checked) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = Admin.create(adminProperties(kafka))) {
            return Optional.of(admin.describeConfigs(List.of(resource)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(resource));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new ConfigException("Kafka topic " + topic + " does not exist at " + kafka.bootstrapServers() + "; " + whenMissing);
            }
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn("cannot check that Kafka topic {} {} (not authorized to describe its configuration)", topic, checked);
                return Optional.empty();
            }
            throw new IllegalStateException("cannot describe Kafka topic " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + kafka.bootstrapServers() + " did not answer within " + TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking Kafka topic " + topic, e);
        }
    }

    /**
     * The topic's id: a topic deleted and created again under the same name gets a new one, and its
     * offsets start over.
     *
     * @throws IllegalStateException if Kafka does not answer or the topic is missing
     */
    public static String topicId(KafkaClientSettings kafka, String topic) {
        try (Admin admin = Admin.create(adminProperties(kafka))) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(topic).topicId()
                    .toString();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe Kafka topic " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing Kafka topic " + topic, e);
        }
    }

    /**
     * The oldest offset Kafka still holds of each partition of the topic: above 0 where retention
     * or a deletion removed records.
     *
     * @throws IllegalStateException if Kafka does not answer or the topic is missing
     */
    public static Map<Integer, Long> firstOffsets(KafkaClientSettings kafka, String topic) {
        try (Admin admin = Admin.create(adminProperties(kafka))) {
            Map<Integer, Long> first = new TreeMap<>();
            offsets(admin, partitions(admin, topic), OffsetSpec.earliest(), IsolationLevel.READ_UNCOMMITTED)
                    .forEach((tp, offset) -> first.put(tp.partition(), offset));
            return first;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot list the offsets of Kafka topic " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing the offsets of Kafka topic " + topic, e);
        }
    }

    /**
     * The partitions of the topic holding a record appended before {@code time} (aborted ones included:
     * a caller asking whether anything may be missing errs on the safe side). None when the topic does
     * not exist.
     *
     * @throws IllegalStateException if Kafka does not answer
     */
    public static List<Integer> partitionsWithRecordsBefore(KafkaClientSettings kafka, String topic, Instant time) {
        try (Admin admin = Admin.create(adminProperties(kafka))) {
            List<TopicPartition> partitions;
            try {
                partitions = partitions(admin, topic);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    return List.of();
                }
                throw e;
            }
            IsolationLevel all = IsolationLevel.READ_UNCOMMITTED;
            Map<TopicPartition, Long> first = offsets(admin, partitions, OffsetSpec.earliest(), all);
            Map<TopicPartition, Long> end = offsets(admin, partitions, OffsetSpec.latest(), all);
            Map<TopicPartition, Long> fromTime = offsets(admin, partitions, OffsetSpec.forTimestamp(time.toEpochMilli()), all);
            return partitions.stream().filter(tp -> {
                long firstAtOrAfter = fromTime.get(tp) < 0 ? end.get(tp) : fromTime.get(tp); // -1: no record that late
                return first.get(tp) < firstAtOrAfter;
            }).map(TopicPartition::partition).sorted().toList();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot list the offsets of Kafka topic " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing the offsets of Kafka topic " + topic, e);
        }
    }

    private static List<TopicPartition> partitions(Admin admin, String topic)
            throws ExecutionException, TimeoutException, InterruptedException {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(topic).partitions()
                .stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /** Each partition's offset by {@code spec}, as a reader of {@code isolation} would find it. */
    private static Map<TopicPartition, Long> offsets(Admin admin, List<TopicPartition> partitions, OffsetSpec spec,
                                                     IsolationLevel isolation)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> offsets = new HashMap<>();
        admin.listOffsets(request, new ListOffsetsOptions(isolation)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .forEach((tp, info) -> offsets.put(tp, info.offset()));
        return offsets;
    }

    /**
     * Where a transaction writing the topic began before this call and is still open (or its commit
     * not yet visible): per partition, the broker's append time of the first record a committed-only
     * reader cannot read yet (the one at the last stable offset). Empty when every record appended
     * before the call is committed or aborted. Such a transaction's records keep their append times
     * when it commits, however much later: a committed-only reader started after this call reads
     * every record appended before the call and before the earliest time returned (DESIGN §4).
     *
     * @throws IllegalStateException if Kafka does not answer or the topic is missing
     */
    public static Map<Integer, Instant> openTransactionStarts(KafkaClientSettings kafka, String topic) {
        Map<TopicPartition, Long> stable;
        Map<TopicPartition, Long> end;
        try (Admin admin = Admin.create(adminProperties(kafka))) {
            List<TopicPartition> partitions = partitions(admin, topic);
            // the end first: a record below it that is still not stable afterwards belongs to a transaction
            // open since before this call; one that began after it appends after the caller's start
            end = offsets(admin, partitions, OffsetSpec.latest(), IsolationLevel.READ_UNCOMMITTED);
            stable = offsets(admin, partitions, OffsetSpec.latest(), IsolationLevel.READ_COMMITTED);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot list the offsets of Kafka topic " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing the offsets of Kafka topic " + topic, e);
        }
        Map<TopicPartition, Long> open = new HashMap<>();
        stable.forEach((tp, offset) -> {
            if (offset < end.get(tp)) {
                open.put(tp, offset);
            }
        });
        return open.isEmpty() ? Map.of() : appendTimes(kafka, open);
    }

    /**
     * The timestamp of the first record at or after each offset, read uncommitted; of the oldest
     * record left where retention has passed the offset.
     */
    static Map<Integer, Instant> appendTimes(KafkaClientSettings kafka, Map<TopicPartition, Long> offsets) {
        Map<String, Object> props = new HashMap<>();
        kafka.clientProperties().forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 * 1024); // one batch per partition is all it needs
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none"); // never a later record's time than the one asked for
        Map<Integer, Instant> times = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(offsets.keySet());
            offsets.forEach(consumer::seek);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
            while (times.size() < offsets.size()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot read the records of open transactions at " + offsets + " within "
                            + TIMEOUT_SECONDS + " s");
                }
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(500));
                } catch (InvalidOffsetException e) {
                    // retention passed the offset since it was listed: the oldest record left is
                    // still no later than any record after it
                    consumer.seekToBeginning(e.partitions());
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    times.putIfAbsent(r.partition(), Instant.ofEpochMilli(r.timestamp()));
                }
                consumer.pause(offsets.keySet().stream().filter(tp -> times.containsKey(tp.partition())).toList());
            }
        }
        return times;
    }

    private static Map<String, Object> adminProperties(KafkaClientSettings kafka) {
        Map<String, Object> props = new HashMap<>();
        // the pass-through properties may hold consumer or Streams settings, which Admin would warn about
        kafka.clientProperties().forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        return props;
    }

    /** @param timestampType the topic's {@code message.timestamp.type} as the broker reports it */
    static void requireLogAppendTime(String topic, String timestampType) {
        if (!"LogAppendTime".equals(timestampType)) {
            throw new ConfigException("Kafka topic " + topic + " has " + TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG + "=" + timestampType
                    + ", but record timestamps must be ingest times stamped by the broker (LogAppendTime); fix it with"
                    + " kafka-configs.sh --alter --entity-type topics --entity-name " + topic
                    + " --add-config " + TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG + "=LogAppendTime");
        }
    }
}
