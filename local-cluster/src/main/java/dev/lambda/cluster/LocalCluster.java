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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    /**
     * The lock files this JVM holds: a second lock of one of them is refused here, without opening it
     * (closing any channel of a file drops every lock the process holds on it).
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final KafkaBroker kafka;
    private final CassandraNode cassandra;
    private final Path dataDir;
    private final FileChannel lock;

    private LocalCluster(KafkaBroker kafka, CassandraNode cassandra, Path dataDir, FileChannel lock) {
        this.kafka = kafka;
        this.cassandra = cassandra;
        this.dataDir = dataDir;
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
            unlock(dataDir, lock);
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
            return new LocalCluster(kafka, cassandraStart.join(), dataDir, lock);
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
        Path file = dataDir.toAbsolutePath().normalize().resolve("cluster.lock");
        if (!HELD.add(file)) {
            throw inUse(dataDir, file);
        }
        FileChannel channel;
        try {
            Files.createDirectories(dataDir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            HELD.remove(file);
            throw new UncheckedIOException("cannot open " + file, e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            release(file, channel);
            throw new UncheckedIOException("cannot lock " + file, e instanceof IOException io ? io : new IOException(e));
        }
        if (lock == null) {
            release(file, channel);
            throw inUse(dataDir, file);
        }
        return channel;
    }

    private static IllegalStateException inUse(Path dataDir, Path file) {
        return new IllegalStateException("the servers' data directory " + dataDir.toAbsolutePath() + " is in use by another running"
                + " ./lambda demo or servers (it holds " + file.getFileName() + "); stop that one, or give this one another --data");
    }

    /** Gives up the lock {@link #lock} took on {@code dataDir}. */
    static void unlock(Path dataDir, FileChannel channel) {
        release(dataDir.toAbsolutePath().normalize().resolve("cluster.lock"), channel);
    }

    private static void release(Path file, FileChannel channel) {
        try {
            channel.close(); // releases the lock
        } catch (IOException e) {
            LOG.warn("cannot close {}", file, e);
        } finally {
            HELD.remove(file);
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
                unlock(dataDir, lock);
            }
        }
    }
}
