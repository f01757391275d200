package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Opens the one {@link CqlSession} a process uses, and applies the schema. The driver's own
 * configuration (application.conf / {@code datastax-java-driver.*} system properties) still applies
 * for anything not set here, e.g. TLS.
 */
public final class CassandraSessions {

    /** Requests one session sends at once: below what one node's pool of two connections takes (2 × 1,024). */
    static final int MAX_CONCURRENT_REQUESTS = 1_024;

    private CassandraSessions() {
    }

    public static CqlSession open(CassandraSettings settings) {
        ProgrammaticDriverConfigLoaderBuilder config = DriverConfigLoader.programmaticBuilder()
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10))
                // DDL waits for schema agreement after a debounce window; the default 1 s makes every CREATE slow
                .withDuration(DefaultDriverOption.METADATA_SCHEMA_WINDOW, Duration.ofMillis(10))
                .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
                .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 2)
                // past what its connections carry at once (1,024 each), the driver fails a request at once ("no connection
                // was available"), as it did for many serving queries over years together. Requests past this wait their
                // turn instead, within their timeout (each layer also bounds what it sends at once)
                .withString(DefaultDriverOption.REQUEST_THROTTLER_CLASS, "ConcurrencyLimitingRequestThrottler")
                .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_CONCURRENT_REQUESTS, MAX_CONCURRENT_REQUESTS)
                .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_QUEUE_SIZE, 100_000)
                // after an outage the default back-off reaches 60 s between attempts, and every layer waits that long
                // once Cassandra is back: the speed layer's rows, the batch's writes, the serving layer's answers
                .withDuration(DefaultDriverOption.RECONNECTION_MAX_DELAY, Duration.ofSeconds(5));
        CassandraTls tls = settings.tls();
        if (tls != null) {
            config.withString(DefaultDriverOption.SSL_ENGINE_FACTORY_CLASS, "DefaultSslEngineFactory")
                    .withBoolean(DefaultDriverOption.SSL_HOSTNAME_VALIDATION, tls.hostnameValidation());
            if (tls.truststore() != null) {
                config.withString(DefaultDriverOption.SSL_TRUSTSTORE_PATH, tls.truststore());
                if (tls.truststorePassword() != null) {
                    config.withString(DefaultDriverOption.SSL_TRUSTSTORE_PASSWORD, tls.truststorePassword());
                }
            }
            if (tls.keystore() != null) {
                config.withString(DefaultDriverOption.SSL_KEYSTORE_PATH, tls.keystore())
                        .withString(DefaultDriverOption.SSL_KEYSTORE_PASSWORD, tls.keystorePassword());
            }
        }
        CqlSessionBuilder builder = CqlSession.builder()
                .withConfigLoader(config.build())
                .withLocalDatacenter(settings.localDatacenter());
        for (InetSocketAddress point : settings.contactPoints()) {
            builder.addContactPoint(point.isUnresolved() ? new InetSocketAddress(point.getHostString(), point.getPort()) : point);
        }
        if (settings.username() != null) {
            builder.withAuthCredentials(settings.username(), settings.password());
        }
        return builder.build();
    }

    /** Opens a session and makes sure the keyspace and tables exist. */
    public static CqlSession openWithSchema(CassandraSettings settings) {
        CqlSession session = open(settings);
        try {
            new CassandraSchema(settings.keyspace(), settings.replication()).apply(session);
            return session;
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }
}
