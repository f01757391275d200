package dev.lambda.serving.http;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Request counts and latency by route and status, and each view's {@link BatchMetrics}, in Prometheus' text format. */
public final class ServingMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    final BatchMetrics batch = new BatchMetrics(registry);
    private final Counter requests = Counter.builder().name("lambda_http_requests_total")
            .help("HTTP requests by route, method and status").labelNames("route", "method", "status").register(registry);
    private final Histogram latency = Histogram.builder().name("lambda_http_request_seconds")
            .help("HTTP request latency by route").labelNames("route")
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5).register(registry);

    public void observe(String route, String method, int status, double seconds) {
        requests.labelValues(route, method, Integer.toString(status)).inc();
        latency.labelValues(route).observe(seconds);
    }

    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
