package dev.lambda.cluster;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A real Cassandra node on loopback: a Testcontainers {@code CassandraContainer} where a Docker
 * engine answers, otherwise a node forked from the jars of {@code server-dists/cassandra}.
 */
public interface CassandraNode extends AutoCloseable {

    /** The address clients connect to (CQL native protocol). */
    InetSocketAddress contactPoint();

    String localDatacenter();

    /** Where the node's log is, for error messages. */
    String logLocation();

    /** Whether the node is still running (it has not exited, been killed or been stopped). */
    boolean isAlive();

    @Override
    void close();

    /**
     * Starts a node.
     *
     * @param dataDir where a forked node keeps its data and log
     * @param port    the CQL port, or 0 for any free port (a container always maps a free one)
     * @param preferContainer use Testcontainers when a Docker engine is available
     */
    static CassandraNode start(Path dataDir, int port, boolean preferContainer) {
        if (preferContainer && port == 0 && ContainerCassandraNode.dockerAvailable()) {
            return ContainerCassandraNode.start();
        }
        return ForkedCassandraNode.start(dataDir, port);
    }

    /**
     * Starts a forked node that only accepts TLS clients (its certificate in the PKCS12
     * {@code keystore}; clients trust {@code truststore}; both with {@code password}) and password
     * authentication, superuser {@code cassandra}/{@code cassandra}: what a production cluster asks of
     * its clients.
     */
    static CassandraNode startSecured(Path dataDir, Path keystore, Path truststore, String password) {
        return ForkedCassandraNode.start(dataDir, 0, new ForkedCassandraNode.Secured(keystore, truststore, password));
    }
}
