package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lambda.cluster.CassandraNode;
import dev.lambda.common.config.Flags;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Cassandra that, like a production cluster, only takes TLS clients with a password: the
 * settings every part builds from its flags ({@code --cassandra-truststore}, {@code --cassandra-user},
 * ...) connect over TLS and create the schema; without TLS or with a wrong password they are refused.
 */
class SecuredCassandraIT {

    private static final String STORE_PASSWORD = "changeit-test";

    @Test
    void thePartsConnectWithTlsAndCredentialsFromTheirFlagsAndNotWithout(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("node.p12");
        Path certificate = dir.resolve("node.crt");
        Path truststore = dir.resolve("trust.p12");
        keytool("-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD);
        keytool("-exportcert", "-alias", "node", "-keystore", keystore.toString(), "-storepass", STORE_PASSWORD, "-file", certificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "node", "-file", certificate.toString(), "-keystore", truststore.toString(),
                "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);

        try (CassandraNode node = CassandraNode.startSecured(dir.resolve("cassandra"), keystore, truststore, STORE_PASSWORD)) {
            String point = node.contactPoint().getHostString() + ":" + node.contactPoint().getPort();
            CassandraSettings secured = settings("--cassandra", point, "--keyspace", "secured", "--cassandra-user", "cassandra",
                    "--cassandra-password", "cassandra", "--cassandra-truststore", truststore.toString(),
                    "--cassandra-truststore-password", STORE_PASSWORD);
            try (CqlSession session = CassandraSessions.openWithSchema(secured)) {
                assertEquals(0, session.execute("SELECT view_name FROM secured.view_state").all().size());
                List<Boolean> encrypted = new ArrayList<>();
                for (Row client : session.execute("SELECT username, ssl_enabled FROM system_views.clients")) {
                    assertEquals("cassandra", client.getString("username"));
                    encrypted.add(client.getBoolean("ssl_enabled"));
                }
                assertTrue(!encrypted.isEmpty() && encrypted.stream().allMatch(e -> e), "every connection is TLS: " + encrypted);
            }

            CassandraSettings plain = settings("--cassandra", point, "--keyspace", "secured", "--cassandra-user", "cassandra",
                    "--cassandra-password", "cassandra");
            assertThrows(AllNodesFailedException.class, () -> CassandraSessions.open(plain).close(), "a plain connection is refused");
            CassandraSettings wrongPassword = settings("--cassandra", point, "--keyspace", "secured", "--cassandra-user", "cassandra",
                    "--cassandra-password", "wrong", "--cassandra-truststore", truststore.toString(),
                    "--cassandra-truststore-password", STORE_PASSWORD);
            AllNodesFailedException refused = assertThrows(AllNodesFailedException.class, () -> CassandraSessions.open(wrongPassword).close());
            assertTrue(refused.getMessage().toLowerCase().contains("authentication"), refused.getMessage());
        }
    }

    private static CassandraSettings settings(String... args) {
        Set<String> known = new HashSet<>(CassandraSettings.FLAGS);
        return CassandraSettings.from(Flags.parse(args, Map.of(), known, Set.of()));
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0, "keytool " + args[0] + " failed: " + output);
    }
}
