package dev.lambda.system;

import dev.lambda.cluster.LocalCluster;
import java.util.ArrayList;
import java.util.List;

/** Command lines for the layers' own config parsers, pointed at the shared test cluster. */
final class LayerArgs {

    private LayerArgs() {
    }

    /** {@code args} plus the cluster's Cassandra, the keyspace and the demo views (a command word may come anywhere). */
    static String[] withCassandra(LocalCluster cluster, String keyspace, String... args) {
        var node = cluster.cassandra();
        List<String> all = new ArrayList<>(List.of("--cassandra", node.contactPoint().getHostString() + ":" + node.contactPoint().getPort(),
                "--cassandra-dc", node.localDatacenter(), "--keyspace", keyspace, "--views", "../config/views.yml"));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    /** As {@link #withCassandra}, plus the cluster's Kafka. */
    static String[] withKafkaAndCassandra(LocalCluster cluster, String keyspace, String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap", cluster.bootstrapServers()));
        all.addAll(List.of(args));
        return withCassandra(cluster, keyspace, all.toArray(String[]::new));
    }
}
