package dev.lambda.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension giving integration tests a started {@link LocalCluster}: one real Kafka and one
 * real Cassandra per test run (per Failsafe JVM), shared by every test class of the module, started
 * on first use and stopped when the run ends. Data and server logs go under
 * {@code target/local-cluster-*}.
 *
 * <pre>{@code
 * @ExtendWith(LocalClusterExtension.class)
 * class SomethingIT {
 *     @Test void works(LocalCluster cluster) { ... }
 * }
 * }</pre>
 */
public final class LocalClusterExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalClusterExtension.class);

    /** Partitions of the events topic in tests: more than one, so partition-local logic is exercised. */
    public static final int TEST_EVENT_PARTITIONS = 3;

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("cluster", key -> new SharedCluster(startCluster()), SharedCluster.class)
                .cluster();
    }

    private static LocalCluster startCluster() {
        try {
            Path target = Path.of("target");
            Files.createDirectories(target);
            Path dataDir = Files.createTempDirectory(target.toAbsolutePath(), "local-cluster-");
            return LocalCluster.start(dataDir, 0, 0, TEST_EVENT_PARTITIONS, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the cluster when JUnit closes the root store at the end of the run. */
    private record SharedCluster(LocalCluster cluster) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            cluster.close();
        }
    }
}
