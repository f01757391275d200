package dev.lambda.common.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CassandraSettingsTest {

    private static CassandraSettings settings(Map<String, String> env, String... args) {
        return CassandraSettings.from(Flags.parse(args, env, new HashSet<>(CassandraSettings.FLAGS), Set.of()));
    }

    @Test
    void plainByDefault() {
        CassandraSettings s = settings(Map.of());
        assertNull(s.tls());
        assertNull(s.username());
        assertEquals("lambda", s.keyspace());
    }

    @Test
    void aTrustStoreTurnsTlsOnAndCredentialsComeFromTheEnvironmentToo() {
        CassandraSettings s = settings(Map.of("LAMBDA_CASSANDRA_PASSWORD", "s3cret", "LAMBDA_CASSANDRA_TRUSTSTORE_PASSWORD", "tpw"),
                "--cassandra-truststore", "/etc/lambda/ca.p12", "--cassandra-user", "lambda");
        assertEquals(new CassandraTls("/etc/lambda/ca.p12", "tpw", null, null, true), s.tls());
        assertEquals("lambda", s.username());
        assertEquals("s3cret", s.password());
        assertFalse(s.toString().contains("s3cret"), "settings print without the password: " + s);
        assertFalse(s.tls().toString().contains("tpw"));
    }

    @Test
    void tlsWithTheJvmTrustAndMutualTlsWithoutHostnameValidation() {
        assertEquals(new CassandraTls(null, null, null, null, true), settings(Map.of(), "--cassandra-tls", "on").tls());
        CassandraTls mutual = settings(Map.of(), "--cassandra-keystore", "me.p12", "--cassandra-keystore-password", "k",
                "--cassandra-tls-hostname-validation", "off").tls();
        assertEquals("me.p12", mutual.keystore());
        assertFalse(mutual.hostnameValidation());
    }

    @Test
    void contradictionsAndMissingPartsAreNamed() {
        assertEquals("--keyspace (or LAMBDA_KEYSPACE): keyspace \"My-KS\" must be lower-case letters, digits and _, starting with a letter,"
                + " at most 48", assertThrows(ConfigException.class, () -> settings(Map.of(), "--keyspace", "My-KS")).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> settings(Map.of(), "--cassandra-tls", "yes")).getMessage()
                .contains("--cassandra-tls must be on or off"));
        assertTrue(assertThrows(ConfigException.class, () -> settings(Map.of(), "--cassandra-tls", "off", "--cassandra-truststore", "t",
                "--cassandra-truststore-password", "p"))
                .getMessage().contains("contradicts"));
        assertTrue(assertThrows(ConfigException.class, () -> settings(Map.of(), "--cassandra-truststore", "ca.p12")).getMessage()
                .contains("--cassandra-truststore needs --cassandra-truststore-password"));
        assertTrue(assertThrows(ConfigException.class, () -> settings(Map.of(), "--cassandra-keystore", "me.p12")).getMessage()
                .contains("--cassandra-keystore needs --cassandra-keystore-password"));
        assertTrue(assertThrows(ConfigException.class, () -> settings(Map.of(), "--cassandra-user", "u")).getMessage()
                .contains("username and password go together"));
    }
}
