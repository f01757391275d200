package dev.lambda.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Cassandra 5 node forked from {@code cassandra-all}'s jars ({@code CassandraDaemon}) on
 * loopback, with one token, no auto-snapshots, no gossip settling wait and a small heap: starts in
 * seconds, behaves like any single-node cluster to its clients.
 */
final class ForkedCassandraNode implements CassandraNode {

    private static final Logger LOG = LoggerFactory.getLogger(ForkedCassandraNode.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final String DATACENTER = "datacenter1";

    /** Cassandra's JDK 17 module flags (its conf/jvm17-server.options). */
    private static final List<String> JDK17_FLAGS = List.of(
            "-Djdk.attach.allowAttachSelf=true",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
            "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
            "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
            "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.base/java.io=ALL-UNNAMED",
            "--add-opens", "java.base/java.nio=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/java.util=ALL-UNNAMED",
            "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "-Dio.netty.tryReflectionSetAccessible=true");

    /**
     * Client TLS with the node's certificate in {@code keystore} (PKCS12), clients trusting
     * {@code truststore}, and password authentication (superuser {@code cassandra}/{@code cassandra}).
     */
    record Secured(Path keystore, Path truststore, String password) {
    }

    private final ForkedServer server;
    private final int port;
    private final Secured secured;

    private ForkedCassandraNode(ForkedServer server, int port, Secured secured) {
        this.server = server;
        this.port = port;
        this.secured = secured;
    }

    static ForkedCassandraNode start(Path dataDir, int requestedPort) {
        return start(dataDir, requestedPort, null);
    }

    /** @param secured {@code null} for a plain node */
    static ForkedCassandraNode start(Path dataDir, int requestedPort, Secured secured) {
        long started = System.nanoTime();
        int port = Ports.resolve(requestedPort, "Cassandra");
        int storagePort = Ports.free();
        ServerDistribution dist = ServerDistribution.of("cassandra");
        Path dir = dataDir.toAbsolutePath();
        Path config = dir.resolve("cassandra.yaml");
        Path logConfig = dir.resolve("logback.xml");
        Path logFile = dir.resolve("server.log");
        try {
            Files.createDirectories(dir);
            Files.writeString(config, yaml(dir, port, storagePort) + security(secured));
            Files.writeString(logConfig, LOGBACK);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write Cassandra config under " + dir, e);
        }
        List<String> jvm = new ArrayList<>(List.of(
                "-Xms256m", "-Xmx1g", "-Xss512k", "-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled", "-Djava.awt.headless=true",
                "-Xlog:gc:file=" + dir.resolve("gc.log") + ":uptime,time:filecount=2,filesize=10m", // pauses, next to server.log
                "-Dcassandra.config=" + config.toUri(),
                "-Dcassandra-foreground=yes",
                "-Dcassandra.storagedir=" + dir,
                "-Dcassandra.logdir=" + dir,
                "-Dlogback.configurationFile=" + logConfig.toUri(),
                "-Dcassandra.skip_wait_for_gossip_to_settle=0",
                "-Dcassandra.ring_delay_ms=100",
                "-Dcassandra.unsafesystem=true",
                "-Dcassandra.superuser_setup_delay_ms=0",
                "-Dcassandra.native.epoll.enabled=true"));
        jvm.addAll(JDK17_FLAGS);
        ForkedServer server = ForkedServer.start("Cassandra", jvm, dist.classpath(),
                "org.apache.cassandra.service.CassandraDaemon", List.of(), logFile);
        ForkedCassandraNode node = new ForkedCassandraNode(server, port, secured);
        try {
            node.awaitReady();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        LOG.info("Cassandra ready at 127.0.0.1:{} in {} ms (log: {})", port,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), logFile);
        return node;
    }

    @Override
    public InetSocketAddress contactPoint() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    @Override
    public String localDatacenter() {
        return DATACENTER;
    }

    @Override
    public String logLocation() {
        return server.logFile().toString();
    }

    @Override
    public boolean isAlive() {
        return server.isAlive();
    }

    @Override
    public void close() {
        server.close();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        ProgrammaticDriverConfigLoaderBuilder probeConfig = DriverConfigLoader.programmaticBuilder()
                .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(2))
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(5))
                .withBoolean(DefaultDriverOption.RECONNECT_ON_INIT, false);
        if (secured != null) {
            probeConfig.withString(DefaultDriverOption.SSL_ENGINE_FACTORY_CLASS, "DefaultSslEngineFactory")
                    .withString(DefaultDriverOption.SSL_TRUSTSTORE_PATH, secured.truststore().toString())
                    .withString(DefaultDriverOption.SSL_TRUSTSTORE_PASSWORD, secured.password())
                    .withString(DefaultDriverOption.AUTH_PROVIDER_CLASS, "PlainTextAuthProvider")
                    .withString(DefaultDriverOption.AUTH_PROVIDER_USER_NAME, "cassandra")
                    .withString(DefaultDriverOption.AUTH_PROVIDER_PASSWORD, "cassandra");
        }
        DriverConfigLoader probe = probeConfig.build();
        while (true) {
            if (!server.isAlive()) {
                throw server.startFailure("the Cassandra process exited");
            }
            if (Ports.isListening(port)) {
                try (CqlSession session = CqlSession.builder().withConfigLoader(probe).addContactPoint(contactPoint())
                        .withLocalDatacenter(DATACENTER).build()) {
                    session.execute("SELECT release_version FROM system.local");
                    return;
                } catch (RuntimeException e) {
                    // native transport not ready yet
                }
            }
            if (System.nanoTime() > deadline) {
                throw server.startFailure("CQL port " + port + " did not answer within " + START_TIMEOUT.toSeconds() + " s");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw server.startFailure("interrupted while waiting");
            }
        }
    }

    /**
     * The node's configuration. Memtables are Cassandra 5's tries with their cells off the heap: the speed
     * layer rewrites the same rows every flush, and memtables that hold them compactly merge those rewrites
     * in memory. Memtables on the heap (128 MiB) flushed every few seconds under the speed benchmark, and
     * flushes and compactions together took two fifths of the node's samples (docs/benchmark-log.md).
     * Off-heap cells use native memory besides the node's heap: up to the off-heap space below.
     */
    private static String yaml(Path dir, int port, int storagePort) {
        return """
                cluster_name: lambda-local
                num_tokens: 1
                allocate_tokens_for_local_replication_factor: 1
                partitioner: org.apache.cassandra.dht.Murmur3Partitioner
                endpoint_snitch: SimpleSnitch
                seed_provider:
                  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
                    parameters:
                      - seeds: "127.0.0.1:%2$d"
                listen_address: 127.0.0.1
                rpc_address: 127.0.0.1
                storage_port: %2$d
                native_transport_port: %1$d
                start_native_transport: true
                data_file_directories: [%3$s/data]
                commitlog_directory: %3$s/commitlog
                saved_caches_directory: %3$s/saved_caches
                hints_directory: %3$s/hints
                cdc_raw_directory: %3$s/cdc_raw
                commitlog_sync: periodic
                commitlog_sync_period: 10000ms
                auto_snapshot: false
                snapshot_before_compaction: false
                concurrent_reads: 8
                concurrent_writes: 8
                concurrent_compactors: 1
                memtable_allocation_type: offheap_objects
                memtable_heap_space: 256MiB
                memtable_offheap_space: 1024MiB
                memtable:
                  configurations:
                    trie:
                      class_name: TrieMemtable
                    default:
                      inherits: trie
                key_cache_size: 16MiB
                batch_size_warn_threshold: 64KiB
                batch_size_fail_threshold: 1024KiB
                authorizer: AllowAllAuthorizer
                """.formatted(port, storagePort, dir);
    }

    /** Authentication and client TLS: none for a plain node. */
    private static String security(Secured secured) {
        if (secured == null) {
            return "authenticator: AllowAllAuthenticator\n";
        }
        return """
                authenticator:
                  class_name: org.apache.cassandra.auth.PasswordAuthenticator
                role_manager: CassandraRoleManager
                client_encryption_options:
                  enabled: true
                  optional: false
                  keystore: %s
                  keystore_password: %s
                  store_type: PKCS12
                  require_client_auth: false
                """.formatted(secured.keystore(), secured.password());
    }

    private static final String LOGBACK = """
            <configuration>
              <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
              </appender>
              <root level="INFO"><appender-ref ref="STDOUT"/></root>
            </configuration>
            """;
}
