package dev.lambda.cluster;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.cassandra.CassandraContainer;

/** Cassandra in a Docker container via Testcontainers, used where a Docker engine answers. */
final class ContainerCassandraNode implements CassandraNode {

    private static final String IMAGE = "cassandra:5.0.5";

    private final CassandraContainer container;

    private ContainerCassandraNode(CassandraContainer container) {
        this.container = container;
    }

    static boolean dockerAvailable() {
        if (System.getenv("DOCKER_HOST") == null && !Files.exists(Path.of("/var/run/docker.sock"))) {
            return false; // no engine to ask; spares Testcontainers' own (noisy) search
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    static ContainerCassandraNode start() {
        CassandraContainer container = new CassandraContainer(IMAGE)
                .withEnv("JVM_OPTS", "-Xms256m -Xmx1g -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=100");
        container.start();
        return new ContainerCassandraNode(container);
    }

    @Override
    public InetSocketAddress contactPoint() {
        return container.getContactPoint();
    }

    @Override
    public String localDatacenter() {
        return container.getLocalDatacenter();
    }

    @Override
    public String logLocation() {
        return "docker logs " + container.getContainerId();
    }

    @Override
    public boolean isAlive() {
        return container.isRunning();
    }

    @Override
    public void close() {
        container.stop();
    }
}
