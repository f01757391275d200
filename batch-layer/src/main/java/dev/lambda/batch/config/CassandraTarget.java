package dev.lambda.batch.config;

import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.cassandra.CassandraTls;
import dev.lambda.common.cassandra.Replication;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Cassandra settings in a form Spark can ship to executors (each executor opens its own session
 * from it).
 */
public record CassandraTarget(String contactPoints, String localDatacenter, String keyspace, String replication,
                              String username, String password, CassandraTls tls) implements Serializable {

    public static CassandraTarget from(CassandraSettings s) {
        String points = String.join(",", s.contactPoints().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        String replication = s.replication().strategy().equals("SimpleStrategy")
                ? "simple:" + s.replication().factors().get("replication_factor")
                : String.join(",", s.replication().factors().entrySet().stream().map(e -> e.getKey() + ":" + e.getValue()).toList());
        return new CassandraTarget(points, s.localDatacenter(), s.keyspace(), replication, s.username(), s.password(), s.tls());
    }

    public CassandraSettings settings() {
        List<InetSocketAddress> points = CassandraSettings.parseContactPoints(contactPoints);
        return new CassandraSettings(points, localDatacenter, keyspace, Replication.parse(replication), username, password, tls);
    }

    /** Without the password. */
    @Override
    public String toString() {
        return "CassandraTarget[" + contactPoints + ", dc=" + localDatacenter + ", keyspace=" + keyspace + ", user=" + username
                + ", tls=" + tls + "]";
    }
}
