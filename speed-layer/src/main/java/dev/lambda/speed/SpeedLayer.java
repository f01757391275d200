package dev.lambda.speed;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.SpeedPartitionsTable;
import dev.lambda.common.cassandra.SpeedRowsTable;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.kafka.EventsTopic;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.speed.config.PublishedCutoffs;
import dev.lambda.speed.config.SpeedConfig;
import dev.lambda.speed.metrics.ConsumerLag;
import dev.lambda.speed.metrics.SpeedMetrics;
import dev.lambda.speed.sink.CassandraSpeedRowSink;
import dev.lambda.speed.sink.SpeedRowSink;
import dev.lambda.speed.topology.SpeedSettings;
import dev.lambda.speed.topology.SpeedTopology;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running speed-layer instance: one Cassandra session, the Kafka Streams application and the
 * Prometheus endpoint. Used by {@link Main} and by whatever runs the layer in-process (tests, the
 * demo launcher).
 */
public final class SpeedLayer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpeedLayer.class);
    /**
     * How long closing tasks may take to write their last changes: half the streams' close timeout,
     * leaving time for the progress records (at most 10 s) and the last commit.
     */
    private static final Duration FINAL_WRITES = Duration.ofSeconds(15);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final CqlSession session;
    private final KafkaStreams streams;
    private final HTTPServer metricsServer;
    private final SpeedMetrics metrics;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Set by {@link #close()} before the streams close: the time by which closing tasks write their last changes. */
    private final AtomicLong stopBy;

    private SpeedLayer(CqlSession session, KafkaStreams streams, HTTPServer metricsServer, SpeedMetrics metrics, AtomicLong stopBy) {
        this.session = session;
        this.stopBy = stopBy;
        this.streams = streams;
        this.metricsServer = metricsServer;
        this.metrics = metrics;
    }

    public static SpeedLayer start(SpeedConfig config, ViewCatalog views) {
        return start(config, views, sink -> sink);
    }

    /**
     * Starts with the Cassandra sink wrapped by {@code wrapSink} (benchmarks observe flushes this way).
     *
     * @throws dev.lambda.common.config.ConfigException if the events topic is missing or not stamped by the broker, or the
     *         dead-letter topic is missing or takes smaller records than the producer may send it
     */
    public static SpeedLayer start(SpeedConfig config, ViewCatalog views, UnaryOperator<SpeedRowSink> wrapSink) {
        EventsTopic.requireBrokerTimestamps(config.kafka(), config.topology().eventsTopic());
        EventsTopic.requireDeadLetterTopic(config.kafka(), config.topology().deadLetterTopic(),
                config.topology().deadLetterMaxBytes() + SpeedSettings.RECORD_OVERHEAD_BYTES);
        CqlSession session = CassandraSessions.openWithSchema(config.cassandra());
        try {
            PublishedCutoffs.warnings(new ViewStateTable(session, config.cassandra().keyspace()), views, config.topology().slots())
                    .forEach(warning -> LOG.warn("{}", warning));
            PrometheusRegistry registry = new PrometheusRegistry();
            SpeedMetrics metrics = new SpeedMetrics(registry);
            SpeedRowSink sink = wrapSink.apply(new CassandraSpeedRowSink(
                    new SpeedRowsTable(session, config.cassandra().keyspace(), config.ttl()), config.maxInFlightWrites(),
                    new SpeedPartitionsTable(session, config.cassandra().keyspace()), config.applicationId(),
                    config.topology().slots().width()));
            AtomicLong stopBy = new AtomicLong(Long.MAX_VALUE);
            ConsumerLag lag = new ConsumerLag(config.topology().eventsTopic());
            KafkaStreams streams = new KafkaStreams(SpeedTopology.build(views, config.topology(), sink, metrics, stopBy::get, lag),
                    config.streamsProperties());
            lag.watch(streams::metrics, () -> streams.metadataForLocalThreads().stream().map(ThreadMetadata::consumerClientId)
                    .collect(Collectors.toSet()));
            streams.setUncaughtExceptionHandler(error -> {
                LOG.error("stream thread failed; replacing it (state is restored from the changelog)", error);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            });
            GaugeWithCallback.builder().name("lambda_speed_consumer_lag_records")
                    .help("Records on the events topic not yet read by this instance")
                    .callback(cb -> cb.call(lag.total())).register(registry);
            HTTPServer server = config.metricsPort() == 0 ? null
                    : metricsServer(config).registry(registry).buildAndStart();
            SpeedLayer layer = new SpeedLayer(session, streams, server, metrics, stopBy);
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
                    layer.stopped.countDown();
                }
            });
            streams.start();
            LOG.info("speed layer started: {}", String.join("; ", config.summary()));
            return layer;
        } catch (IOException e) {
            session.close();
            throw new UncheckedIOException("cannot open the metrics port " + (config.metricsHost() == null ? "" : config.metricsHost() + ":")
                    + config.metricsPort() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Every address unless one is given: a builder given no host binds the wildcard, IPv6 included. */
    private static HTTPServer.Builder metricsServer(SpeedConfig config) {
        HTTPServer.Builder builder = HTTPServer.builder().port(config.metricsPort());
        return config.metricsHost() == null ? builder : builder.hostname(config.metricsHost());
    }

    public SpeedMetrics metrics() {
        return metrics;
    }

    /** Blocks until the streams application stops (closed, or failed for good). */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        stopBy.set(System.nanoTime() + FINAL_WRITES.toNanos());
        // leaving the group hands its partitions on at once: a member that stays would hold them, unprocessed, until the
        // group's session timeout (45 s) after the close
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(CLOSE_TIMEOUT));
        if (metricsServer != null) {
            metricsServer.stop();
        }
        session.close();
        LOG.info("speed layer stopped");
    }
}
