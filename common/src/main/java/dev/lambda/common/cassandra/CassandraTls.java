package dev.lambda.common.cassandra;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import java.io.Serializable;

/**
 * TLS to Cassandra's native port: a truststore holding the cluster's CA (or the JVM's default trust
 * when none is given), optionally a keystore with this client's certificate for mutual TLS, and
 * whether the server's host name must match its certificate. Serializable so Spark executors get it.
 *
 * @param truststore {@code null}: the JVM's default trust store
 * @param keystore   {@code null}: no client certificate
 */
public record CassandraTls(String truststore, String truststorePassword, String keystore, String keystorePassword,
                           boolean hostnameValidation) implements Serializable {

    /** TLS settings from the flags, or {@code null} when TLS is off. */
    static CassandraTls from(Flags flags) {
        String truststore = flags.string("cassandra-truststore", null);
        String keystore = flags.string("cassandra-keystore", null);
        String mode = flags.string("cassandra-tls", truststore != null || keystore != null ? "on" : "off");
        if (!mode.equals("on") && !mode.equals("off")) {
            throw new ConfigException("--cassandra-tls must be on or off, got \"" + mode + "\"");
        }
        if (mode.equals("off")) {
            if (truststore != null || keystore != null) {
                throw new ConfigException("--cassandra-tls off contradicts --cassandra-truststore / --cassandra-keystore");
            }
            return null;
        }
        String validation = flags.string("cassandra-tls-hostname-validation", "on");
        if (!validation.equals("on") && !validation.equals("off")) {
            throw new ConfigException("--cassandra-tls-hostname-validation must be on or off, got \"" + validation + "\"");
        }
        String truststorePassword = flags.string("cassandra-truststore-password", null);
        String keystorePassword = flags.string("cassandra-keystore-password", null);
        if (truststore != null && truststorePassword == null) {
            throw new ConfigException("--cassandra-truststore needs --cassandra-truststore-password (a PKCS12 store without it yields no certificates)");
        }
        if (keystore != null && keystorePassword == null) {
            throw new ConfigException("--cassandra-keystore needs --cassandra-keystore-password");
        }
        return new CassandraTls(truststore, truststorePassword, keystore, keystorePassword, validation.equals("on"));
    }

    @Override
    public String toString() {
        return "CassandraTls[truststore=" + truststore + ", keystore=" + keystore + ", hostnameValidation=" + hostnameValidation + "]";
    }
}
