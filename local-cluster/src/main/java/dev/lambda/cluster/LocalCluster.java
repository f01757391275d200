package dev.lambda.cluster;

import java.nio.file.Path;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded real servers the system runs on one machine: a Kafka broker with the system topics
 * and a Cassandra node, data and logs under one folder. Closing stops both cleanly; a JVM shutdown
 * hook does it if the owner does not.
 */
public final class LocalCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalCluster.class);

    private final KafkaBroker kafka;
    private final CassandraNode cassandra;

    private LocalCluster(KafkaBroker kafka, CassandraNode cassandra) {
        this.kafka = kafka;
        this.cassandra = cassandra;
    }

    /**
     * @param dataDir         holds {@code kafka/} and {@code cassandra/} (data, config and server.log)
     * @param kafkaPort       0 for any free port
     * @param cassandraPort   0 for any free port
     * @param eventPartitions partitions of the {@code events} topic
     * @param preferContainer run Cassandra in Testcontainers where a Docker engine answers
     */
    public static LocalCluster start(Path dataDir, int kafkaPort, int cassandraPort, int eventPartitions, boolean preferContainer) {
        // Cassandra takes longer; start it in the background while Kafka comes up
        var cassandraStart = new java.util.concurrent.CompletableFuture<CassandraNode>();
        Thread starter = new Thread(() -> {
            try {
                cassandraStart.complete(CassandraNode.start(dataDir.resolve("cassandra"), cassandraPort, preferContainer));
            } catch (Throwable t) {
                cassandraStart.completeExceptionally(t);
            }
        }, "cassandra-start");
        starter.start();
        KafkaBroker kafka;
        try {
            kafka = KafkaBroker.start(dataDir.resolve("kafka"), kafkaPort);
            try (Admin admin = kafka.admin()) {
                SystemTopics.create(admin, eventPartitions, 1);
            }
        } catch (RuntimeException e) {
            cassandraStart.thenAccept(CassandraNode::close);
            throw e;
        }
        try {
            return new LocalCluster(kafka, cassandraStart.join());
        } catch (java.util.concurrent.CompletionException e) {
            kafka.close();
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    public KafkaBroker kafka() {
        return kafka;
    }

    public CassandraNode cassandra() {
        return cassandra;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public void close() {
        LOG.info("stopping the local cluster");
        try {
            cassandra.close();
        } finally {
            kafka.close();
        }
    }
}
