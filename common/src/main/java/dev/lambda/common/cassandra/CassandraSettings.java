package dev.lambda.common.cassandra;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a process reaches Cassandra: contact points, the local datacenter, the keyspace and its
 * replication, optional credentials and TLS.
 *
 * @param username {@code null} when the cluster needs no authentication
 * @param tls      {@code null} for plain connections
 */
public record CassandraSettings(List<InetSocketAddress> contactPoints, String localDatacenter, String keyspace,
                                Replication replication, String username, String password, CassandraTls tls) {

    /** Plain connections (no TLS). */
    public CassandraSettings(List<InetSocketAddress> contactPoints, String localDatacenter, String keyspace,
                             Replication replication, String username, String password) {
        this(contactPoints, localDatacenter, keyspace, replication, username, password, null);
    }

    public CassandraSettings {
        contactPoints = List.copyOf(contactPoints);
        Objects.requireNonNull(localDatacenter, "localDatacenter");
        Objects.requireNonNull(keyspace, "keyspace");
        Objects.requireNonNull(replication, "replication");
        if (contactPoints.isEmpty()) {
            throw new IllegalArgumentException("at least one Cassandra contact point is needed");
        }
        if ((username == null) != (password == null)) {
            throw new IllegalArgumentException("Cassandra username and password go together");
        }
    }

    /** Without the password. */
    @Override
    public String toString() {
        return "CassandraSettings[contactPoints=" + contactPoints + ", localDatacenter=" + localDatacenter + ", keyspace=" + keyspace
                + ", replication=" + replication + ", username=" + username + ", password=" + (password == null ? null : "***")
                + ", tls=" + tls + "]";
    }

    /** Help lines of the flags {@link #from} reads, for every runnable module's --help. */
    public static final String FLAG_HELP = """
              --cassandra HOST:PORT,...    Cassandra contact points                        [127.0.0.1:9042]
              --cassandra-dc NAME          Cassandra local datacenter                      [datacenter1]
              --cassandra-user NAME        Cassandra username (with --cassandra-password)  [none]
              --cassandra-password SECRET  Cassandra password                              [none]
              --keyspace NAME              Cassandra keyspace                              [lambda]
              --replication SPEC           keyspace replication: simple:N or dc:N,dc:N     [simple:1]
              --cassandra-tls on|off       TLS to Cassandra (on when a store is given)     [off]
              --cassandra-truststore FILE  JKS/PKCS12 trust store with the cluster's CA    [JVM default]
              --cassandra-truststore-password SECRET                                       [none]
              --cassandra-keystore FILE    client certificate for mutual TLS               [none]
              --cassandra-keystore-password SECRET                                         [none]
              --cassandra-tls-hostname-validation on|off                                   [on]
            """;

    /** The flags {@link #from} reads. */
    public static final List<String> FLAGS = List.of("cassandra", "cassandra-dc", "keyspace", "replication",
            "cassandra-user", "cassandra-password", "cassandra-tls", "cassandra-truststore", "cassandra-truststore-password",
            "cassandra-keystore", "cassandra-keystore-password", "cassandra-tls-hostname-validation");

    /** Settings from {@code --cassandra host:port,…}, {@code --cassandra-dc}, {@code --keyspace}, {@code --replication}, credentials, TLS. */
    public static CassandraSettings from(Flags flags) {
        String keyspace = flags.string("keyspace", "lambda");
        try {
            CassandraSchema.checkedKeyspace(keyspace); // before any connection is tried: a setting's fault, not the cluster's
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--keyspace (or " + Flags.envName("keyspace") + "): " + e.getMessage());
        }
        try {
            return new CassandraSettings(parseContactPoints(flags.string("cassandra", "127.0.0.1:9042")),
                    flags.string("cassandra-dc", "datacenter1"), keyspace,
                    Replication.parse(flags.string("replication", "simple:1")),
                    flags.string("cassandra-user", null), flags.string("cassandra-password", null), CassandraTls.from(flags));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** Parses {@code host:port[,host:port...]} (port defaults to 9042). */
    public static List<InetSocketAddress> parseContactPoints(String text) {
        List<InetSocketAddress> points = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int colon = p.lastIndexOf(':');
            try {
                points.add(colon < 0 ? InetSocketAddress.createUnresolved(p, 9042)
                        : InetSocketAddress.createUnresolved(p.substring(0, colon), Integer.parseInt(p.substring(colon + 1))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Cassandra contact point \"" + p + "\": expected host:port");
            }
        }
        if (points.isEmpty()) {
            throw new IllegalArgumentException("Cassandra contact points \"" + text + "\": expected host:port[,host:port]");
        }
        return points;
    }
}
