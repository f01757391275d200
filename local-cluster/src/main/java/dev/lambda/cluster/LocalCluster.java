package dev.lambda.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded real servers the system runs on one machine: a Kafka broker with the system topics
 * and a Cassandra node, data and logs under one folder, which one cluster at a time may use. Closing
 * stops both cleanly; a JVM shutdown hook does it if the owner does not.
 */
public final class LocalCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalCluster.class);

    private final KafkaBroker kafka;
    private final CassandraNode cassandra;
    private final FileChannel lock;

    private LocalCluster(KafkaBroker kafka, CassandraNode cassandra, FileChannel lock) {
        this.kafka = kafka;
        this.cassandra = cassandra;
        this.lock = lock;
    }

    /**
     * @param dataDir         holds {@code kafka/} and {@code cassandra/} (data, config and server.log)
     * @param kafkaPort       0 for any free port
     * @param cassandraPort   0 for any free port
     * @param eventPartitions partitions of the {@code events} topic
     * @param preferContainer run Cassandra in Testcontainers where a Docker engine answers
     * @throws IllegalStateException if another cluster (of this process or another) uses {@code dataDir}
     */
    public static LocalCluster start(Path dataDir, int kafkaPort, int cassandraPort, int eventPartitions, boolean preferContainer) {
        FileChannel lock = lock(dataDir);
        try {
            return start(dataDir, kafkaPort, cassandraPort, eventPartitions, preferContainer, lock);
        } catch (RuntimeException e) {
            closeQuietly(lock);
            throw e;
        }
    }

    private static LocalCluster start(Path dataDir, int kafkaPort, int cassandraPort, int eventPartitions, boolean preferContainer,
                                      FileChannel lock) {
        // Cassandra takes longer; start it in the background while Kafka comes up
        CompletableFuture<CassandraNode> cassandraStart = new CompletableFuture<>();
        Thread starter = new Thread(() -> {
            try {
                cassandraStart.complete(CassandraNode.start(dataDir.resolve("cassandra"), cassandraPort, preferContainer));
            } catch (Throwable t) {
                cassandraStart.completeExceptionally(t);
            }
        }, "cassandra-start");
        starter.start();
        KafkaBroker kafka = null;
        try {
            kafka = KafkaBroker.start(dataDir.resolve("kafka"), kafkaPort);
            try (Admin admin = kafka.admin()) {
                SystemTopics.create(admin, eventPartitions, 1);
            }
        } catch (RuntimeException e) {
            if (kafka != null) {
                kafka.close();
            }
            cassandraStart.thenAccept(CassandraNode::close).exceptionally(t -> null).join(); // stopped before the data is free
            throw e;
        }
        try {
            return new LocalCluster(kafka, cassandraStart.join(), lock);
        } catch (CompletionException e) {
            kafka.close();
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Takes {@code dataDir}'s lock file, held until the cluster closes (or its JVM ends): a second
     * cluster on the same data would rewrite the running servers' configuration and start another
     * Cassandra on their files.
     */
    static FileChannel lock(Path dataDir) {
        Path file = dataDir.toAbsolutePath().resolve("cluster.lock");
        FileChannel channel;
        try {
            Files.createDirectories(dataDir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file, e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot lock " + file, e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new IllegalStateException("the servers' data directory " + dataDir.toAbsolutePath() + " is in use by another running"
                    + " ./lambda demo or servers (it holds " + file.getFileName() + "); stop that one, or give this one another --data");
        }
        return channel;
    }

    static void closeQuietly(FileChannel channel) {
        try {
            channel.close(); // releases the lock
        } catch (IOException e) {
            LOG.warn("cannot close {}", channel, e);
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

    /** Which server is no longer running, and where its log is; empty while both run. */
    public Optional<String> stoppedServer() {
        if (!kafka.isAlive()) {
            return Optional.of("Kafka exited; see " + kafka.logFile());
        }
        if (!cassandra.isAlive()) {
            return Optional.of("Cassandra exited; see " + cassandra.logLocation());
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        LOG.info("stopping the local cluster");
        try {
            cassandra.close();
        } finally {
            try {
                kafka.close();
            } finally {
                closeQuietly(lock);
            }
        }
    }
}
