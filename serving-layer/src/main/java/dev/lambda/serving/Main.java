package dev.lambda.serving;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewConfigException;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.config.ServingConfig;
import dev.lambda.serving.http.ServingApp;
import dev.lambda.serving.query.QueryPlanner;
import dev.lambda.serving.query.QueryService;
import dev.lambda.serving.query.SpeedChanges;
import dev.lambda.serving.store.CachedBatchRows;
import dev.lambda.serving.store.CassandraViewRows;
import io.javalin.Javalin;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the serving layer (one Cassandra session, the query service, the HTTP app) and runs it until SIGTERM. */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) {
        ServingConfig config;
        ViewCatalog views;
        try {
            Flags flags = ServingConfig.flags(args, System.getenv());
            if (flags.isSet("help")) {
                System.out.print(ServingConfig.HELP);
                return;
            }
            config = ServingConfig.from(flags);
            views = new ViewCatalogLoader().load(config.viewsFile());
            config.apiKeys().requireDefined(views.views().stream().map(ViewDefinition::name).collect(Collectors.toSet()));
        } catch (ConfigException | ViewConfigException e) {
            System.err.println("serving-layer: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            start(config, views);
        } catch (RuntimeException e) { // Cassandra unreachable, or a keyspace this release must upgrade first
            LOG.error("cannot start", e);
            System.err.println("serving-layer: cannot start: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Starts the server; it is stopped (and the session closed) on JVM shutdown. */
    public static Javalin start(ServingConfig config, ViewCatalog views) {
        CqlSession session = CassandraSessions.openWithSchema(config.cassandra());
        CachedBatchRows rows = new CachedBatchRows(new CassandraViewRows(session, config.cassandra().keyspace()),
                config.batchCacheRows(), config.stateTtl(), System::nanoTime);
        SpeedChanges speedChanges = config.speedPoll().isZero() || config.answerCacheEntries() == 0 ? null
                : SpeedChanges.every(rows, config.speedPoll());
        QueryService queries = new QueryService(rows, new QueryPlanner(config.maxBuckets(), config.maxReadBuckets()),
                config.queryTimeout(), config.queryCacheAggregates(), speedChanges, config.answerCacheEntries(),
                config.answerCacheRows());
        Javalin app = ServingApp.create(views, queries, config.apiKeys(), config.metricsKeys(), config.corsOrigins(), config.batchOverdue());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.stop();
            if (speedChanges != null) {
                speedChanges.close();
            }
            session.close();
        }, "serving-shutdown"));
        if (!config.apiKeys().enabled() && !loopback(config.host())) {
            LOG.warn("the API is open: no --api-key, and listening on {}: whoever reaches port {} reads every view. Give --api-key,"
                    + " or --host 127.0.0.1 behind a proxy that authenticates", config.host(), config.port());
        }
        return app.start(config.host(), config.port());
    }

    /** Whether an address is the machine's own only (an unknown name is not known to be). */
    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
