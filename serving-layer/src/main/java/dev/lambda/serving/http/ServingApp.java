package dev.lambda.serving.http;

import com.datastax.oss.driver.api.core.DriverException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.query.Answer;
import dev.lambda.serving.query.Query;
import dev.lambda.serving.query.QueryException;
import dev.lambda.serving.query.QueryService;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.router.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the serving layer's HTTP app (unstarted) from its services: every route in one place,
 * errors mapped centrally to one JSON shape, optional API keys, CORS, request metrics.
 *
 * <pre>
 * GET /health                        alive (always open)
 * GET /ready                         Cassandra reachable
 * GET /metrics                       Prometheus text format
 * GET /openapi.json, /docs           the API description and a browsable page
 * GET /                              the live dashboard (static page on the public API)
 * GET /api/v1/views                  every view
 * GET /api/v1/views/{view}           one view plus its freshness
 * GET /api/v1/views/{view}/query     the query endpoint (JSON or CSV)
 * GET /api/v1/status                 per view: published generation and run stats; speed freshness
 * </pre>
 */
public final class ServingApp {

    private static final Logger LOG = LoggerFactory.getLogger(ServingApp.class);
    private static final String JSON = "application/json";
    /** Answer headers: the range covered, the batch cutoff and generation (when published), the newest speed ingest in it. */
    private static final Pattern QVALUE = Pattern.compile("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?");
    static final List<String> ANSWER_HEADERS = List.of("Lambda-From", "Lambda-To", "Lambda-Batch-Cutoff", "Lambda-Batch-Generation",
            "Lambda-Speed-Through");

    private final ViewCatalog views;
    private final QueryService queries;
    private final ApiKeys keys;
    private final ApiKeys metricsKeys;
    private final ServingMetrics metrics;
    private final Duration batchOverdue;
    private final ObjectMapper mapper = new ObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
    private final EncodedAnswers encoded = new EncodedAnswers(1_000, Runtime.getRuntime().maxMemory() / 16);

    private ServingApp(ViewCatalog views, QueryService queries, ApiKeys keys, ApiKeys metricsKeys, ServingMetrics metrics,
                       Duration batchOverdue) {
        this.views = views;
        this.queries = queries;
        this.keys = keys;
        this.metricsKeys = metricsKeys;
        this.metrics = metrics;
        this.batchOverdue = batchOverdue;
    }

    /**
     * @param metricsKeys keys {@code /metrics} asks for (it names every view); none: open
     * @param corsOrigins allowed browser origins ({@code *} for any); empty for no CORS headers
     */
    public static Javalin create(ViewCatalog views, QueryService queries, ApiKeys keys, ApiKeys metricsKeys, List<String> corsOrigins,
                                 Duration batchOverdue) {
        return new ServingApp(views, queries, keys, metricsKeys, new ServingMetrics(), batchOverdue).build(corsOrigins);
    }

    private Javalin build(List<String> corsOrigins) {
        return Javalin.create(config -> {
            config.http.maxRequestSize = 16 * 1024;
            config.startup.showJavalinBanner = false;
            if (!corsOrigins.isEmpty()) {
                config.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    if (corsOrigins.contains("*")) {
                        rule.anyHost();
                    } else {
                        rule.allowedOrigins().addAll(corsOrigins);
                    }
                    ANSWER_HEADERS.forEach(rule::exposeHeader);
                }));
            }
            config.routes.before(ctx -> {
                ctx.attribute("started", System.nanoTime());
                ctx.header("X-Content-Type-Options", "nosniff"); // a CSV or JSON answer is never run as a script or page
            });
            config.routes.before("/api/*", ctx -> {
                ctx.header("Cache-Control", "no-cache"); // an answer stands for a second or so: ask again every time
                authenticate(ctx, keys);
            });
            config.routes.before("/metrics", ctx -> authenticate(ctx, metricsKeys));
            config.routes.after(this::record);

            config.routes.get("/health", ctx -> ctx.contentType(JSON).result("{\"status\":\"ok\"}"));
            config.routes.get("/ready", this::ready);
            config.routes.get("/metrics", this::metrics);
            config.routes.get("/openapi.json", ctx -> ctx.contentType(JSON).result(resource("openapi.json")));
            config.routes.get("/docs", ctx -> ctx.contentType("text/html; charset=utf-8").result(resource("docs.html")));
            config.routes.get("/", ctx -> dashboard(ctx, "index.html", "text/html; charset=utf-8"));
            config.routes.get("/dashboard/app.js", ctx -> dashboard(ctx, "app.js", "text/javascript; charset=utf-8"));
            config.routes.get("/dashboard/style.css", ctx -> dashboard(ctx, "style.css", "text/css; charset=utf-8"));
            config.routes.get("/api/v1/views", ctx -> json(ctx, Map.of("views", readable(ctx).map(AnswerEncoding::view).toList())));
            config.routes.get("/api/v1/views/{view}", this::describe);
            config.routes.get("/api/v1/views/{view}/query", this::query);
            config.routes.get("/api/v1/status", this::status);

            config.routes.exception(QueryException.class, (e, ctx) -> error(ctx, e.status(), e.code(), e.getMessage(), e.parameter()));
            config.routes.exception(Exception.class, this::unexpected);
            config.routes.error(404, ctx -> {
                if (ctx.attribute("error") == null) {
                    error(ctx, 404, "not_found", "no such endpoint: " + ctx.method() + " " + ctx.path() + " (see /docs)", null);
                }
            });
        });
    }

    /**
     * A browser's CORS preflight ({@code OPTIONS}) never carries the key the request it asks about
     * will send, so it is not asked for one: it only learns which origins and headers are allowed.
     */
    private static void authenticate(Context ctx, ApiKeys keys) {
        if (!keys.enabled() || ctx.method() == HandlerType.OPTIONS) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header == null || !header.startsWith("Bearer ")) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new QueryException(401, "unauthorized", "an API key is required: send Authorization: Bearer <key>", "Authorization");
        }
        ApiKeys.Grant grant = keys.grantFor(header.substring("Bearer ".length()).trim()).orElseThrow(() -> {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            return new QueryException(401, "unauthorized", "unknown API key", "Authorization");
        });
        ctx.attribute("grant", grant);
    }

    /** The views the request's key may read: every view when keys are off. */
    private Stream<ViewDefinition> readable(Context ctx) {
        ApiKeys.Grant grant = ctx.attribute("grant");
        return views.views().stream().filter(v -> grant == null || grant.allows(v.name()));
    }

    private ViewDefinition view(Context ctx) {
        String name = ctx.pathParam("view");
        // a view the key may not read is answered as one that does not exist: the key learns nothing of it
        return readable(ctx).filter(v -> v.name().equals(name)).findFirst().orElseThrow(() -> new QueryException(404, "unknown_view",
                "no view named \"" + name + "\" (views: " + readable(ctx).map(ViewDefinition::name).toList() + ")", "view"));
    }

    private void describe(Context ctx) {
        ViewDefinition view = view(ctx);
        Map<String, Object> doc = new LinkedHashMap<>(AnswerEncoding.view(view));
        doc.put("freshness", freshness(view, Instant.now(), BatchMetrics.orNull(queries.speedPartitions())).join());
        json(ctx, doc);
    }

    private void query(Context ctx) throws IOException {
        ViewDefinition view = view(ctx);
        QueryParser.checkEscapes(ctx.queryString());
        Query q = QueryParser.parse(view, ctx.queryParamMap());
        String format = QueryParser.format(ctx.queryParamMap());
        boolean csv = "csv".equals(format) || (format == null && prefersCsv(ctx.header("Accept")));
        Answer answer = await(queries.answer(q));
        answerHeaders(ctx, answer);
        ctx.header("Vary", "Accept"); // the format may follow it
        if (csv) {
            ctx.header("Content-Disposition", "attachment; filename=\"" + view.name() + ".csv\"");
            send(ctx, "text/csv; charset=utf-8", encoded.body(answer, true, a -> AnswerEncoding.csv(a).getBytes(StandardCharsets.UTF_8)));
        } else {
            send(ctx, JSON, encoded.body(answer, false, this::jsonBytes));
        }
    }

    /**
     * Writes a body straight to the response stream (compressed as any result when the client asks).
     * Handing bytes to {@code ctx.result} would copy them through a fresh 32 KiB buffer per request,
     * which at thousands of requests a second was half of everything the server allocated.
     */
    private static void send(Context ctx, String contentType, byte[] body) throws IOException {
        ctx.contentType(contentType);
        ctx.outputStream().write(body); // an IOException as it is: Javalin tells a client that went away from a failure
    }

    private void status(Context ctx) {
        Instant now = Instant.now();
        List<Map<String, Object>> list = new ArrayList<>();
        CompletableFuture<List<SpeedPartitionStatus>> speedPartitions = queries.speedPartitions();
        CompletableFuture<List<SpeedPartitionStatus>> progress = BatchMetrics.orNull(speedPartitions);
        for (ViewDefinition view : readable(ctx).toList()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("view", view.name());
            doc.put("version", view.version());
            doc.putAll(freshness(view, now, progress).join());
            list.add(doc);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("now", now.toString());
        doc.put("views", list);
        ApiKeys.Grant grant = ctx.attribute("grant");
        if (grant == null || grant.allows("*")) { // the speed layer's totals span every view
            doc.put("speed", speedStatus(await(speedPartitions)));
        }
        json(ctx, doc);
    }

    /** Totals over every speed-layer partition, and each partition's progress. */
    private static Map<String, Object> speedStatus(List<SpeedPartitionStatus> partitions) {
        Map<String, Long> deadLetters = new TreeMap<>();
        long duplicates = 0;
        List<Map<String, Object>> each = new ArrayList<>();
        for (SpeedPartitionStatus p : partitions) {
            p.deadLetters().forEach((reason, count) -> deadLetters.merge(reason, count, Long::sum));
            duplicates += p.duplicatesDropped();
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("applicationId", p.applicationId());
            doc.put("partition", p.partition());
            doc.put("nextOffset", p.updatedAt() == null ? null : p.nextOffset()); // no progress yet: only a width recorded
            doc.put("newestIngest", AnswerEncoding.text(p.newestIngest()));
            doc.put("duplicatesDropped", p.duplicatesDropped());
            doc.put("deadLetters", p.deadLetters());
            doc.put("updatedAt", AnswerEncoding.text(p.updatedAt()));
            Map<String, String> widths = new TreeMap<>(); // what a batch cutoff must agree with
            p.slotWidths().forEach((width, ingest) -> widths.put(width.toString(), ingest.toString()));
            doc.put("slotWidths", widths);
            doc.put("rowsTtls", p.rowsTtls().stream().sorted().map(Duration::toString).toList());
            Map<String, String> versions = new TreeMap<>(); // what a batch publish of a view version waits for
            p.viewVersions().forEach((version, since) -> versions.put(version, since.toString()));
            doc.put("viewVersions", versions);
            each.add(doc);
        }
        Map<String, Object> speed = new LinkedHashMap<>();
        speed.put("deadLetters", deadLetters);
        speed.put("duplicatesDropped", duplicates);
        speed.put("partitions", each);
        return speed;
    }

    /** @param partitions the speed layer's progress ({@code null}: unreadable) */
    private CompletableFuture<Map<String, Object>> freshness(ViewDefinition view, Instant now,
                                                             CompletableFuture<List<SpeedPartitionStatus>> partitions) {
        CompletableFuture<Optional<ViewState>> state = queries.state(view);
        CompletableFuture<Instant> speed = queries.speedThrough(view, now);
        CompletableFuture<Duration> speedTtl = BatchMetrics.shortestSpeedTtl(partitions);
        return CompletableFuture.allOf(state, speed, speedTtl, partitions).thenApply(done -> {
            Optional<ViewState> s = state.join();
            Instant through = speed.join();
            Duration ttl = speedTtl.join();
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("batchCutoff", s.map(v -> v.cutoff().toString()).orElse(null));
            doc.put("batchGeneration", s.map(ViewState::generation).orElse(null));
            doc.put("batchBuiltAt", s.map(v -> v.builtAt().toString()).orElse(null));
            doc.put("batchEventsIn", s.map(ViewState::eventsIn).orElse(null));
            doc.put("batchDuplicatesDropped", s.map(ViewState::duplicatesDropped).orElse(null));
            doc.put("batchRowsWritten", s.map(ViewState::rowsWritten).orElse(null));
            doc.put("batchDurationMs", s.map(ViewState::durationMs).orElse(null));
            doc.put("batchOverdue", BatchMetrics.overdue(s, now, batchOverdue, ttl));
            // then events ingested after the cutoff may be counted nowhere: the batch must run
            doc.put("speedRowsMayHaveExpired", BatchMetrics.speedRowsMayHaveExpired(s, now, ttl));
            doc.put("retiredAt", s.map(v -> AnswerEncoding.text(v.retiredAt())).orElse(null)); // then queries answer 410
            doc.put("replacedBy", s.map(ViewState::replacedBy).orElse(null));
            doc.put("speedThrough", AnswerEncoding.text(through));
            doc.put("speedLagSeconds", through == null ? null : Math.max(0, Duration.between(through, now).toMillis() / 1000.0));
            // a speed layer on another views file: this version's rows stopped there when it started
            doc.put("speedPartitionsWithoutThisVersion", BatchMetrics.partitionsWithoutVersion(view.versionKey(), partitions.join()));
            return doc;
        });
    }

    private void metrics(Context ctx) {
        Instant now = Instant.now();
        Map<String, CompletableFuture<Optional<ViewState>>> states = new LinkedHashMap<>();
        Map<String, String> versionKeys = new LinkedHashMap<>();
        views.views().forEach(view -> {
            states.put(view.name(), queries.state(view));
            versionKeys.put(view.name(), view.versionKey());
        });
        CompletableFuture<List<SpeedPartitionStatus>> partitions = BatchMetrics.orNull(queries.speedPartitions());
        CompletableFuture<Duration> speedTtl = BatchMetrics.shortestSpeedTtl(partitions);
        states.forEach((view, state) -> {
            try {
                metrics.batch.update(view, state.join(), now, batchOverdue, speedTtl.join(),
                        BatchMetrics.partitionsWithoutVersion(versionKeys.get(view), partitions.join()));
            } catch (CompletionException e) { // Cassandra down or slow: the request metrics are still worth answering with
                metrics.batch.unknown(view);
            }
        });
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
    }

    private void ready(Context ctx) {
        if (queries.ready()) {
            ctx.contentType(JSON).result("{\"status\":\"ready\"}");
        } else {
            unavailable(ctx, "Cassandra is not reachable");
        }
    }

    private void record(Context ctx) {
        Long started = ctx.attribute("started");
        if (started == null) {
            return;
        }
        // the matched route's pattern (not the raw path), so label values stay few
        Endpoint matched = ctx.endpoints().matchedHttpEndpoint();
        String route = matched == null ? "unmatched" : matched.path;
        metrics.observe(route, ctx.method().name(), ctx.statusCode(), (System.nanoTime() - started) / 1e9);
    }

    private void unexpected(Exception e, Context ctx) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof QueryException q) {
            error(ctx, q.status(), q.code(), q.getMessage(), q.parameter());
        } else if (cause instanceof DriverException) {
            LOG.warn("Cassandra unavailable for {}: {}", ctx.path(), cause.toString());
            unavailable(ctx, "Cassandra did not answer; retry shortly");
        } else if (cause instanceof TimeoutException) {
            // the query's own timeout: Cassandra slow to answer, or merges queued behind others under load
            LOG.warn("no answer in time for {}: {}", ctx.path(), cause.toString());
            unavailable(ctx, "the query was not answered within the query timeout (Cassandra slow or this server overloaded); "
                    + "retry shortly");
        } else {
            LOG.error("unexpected failure answering {}", ctx.path(), cause);
            error(ctx, 500, "internal_error", "unexpected server error; see the server log", null);
        }
    }

    private void unavailable(Context ctx, String message) {
        ctx.header("Retry-After", "5");
        error(ctx, 503, "unavailable", message, null);
    }

    private void error(Context ctx, int status, String code, String message, String parameter) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("message", message);
        body.put("parameter", parameter);
        ctx.status(status);
        ctx.attribute("error", code);
        json(ctx, Map.of("error", body));
    }

    private void json(Context ctx, Object document) {
        try {
            ctx.contentType(JSON).result(mapper.writeValueAsBytes(document));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] jsonBytes(Answer answer) {
        try {
            return mapper.writeValueAsBytes(AnswerEncoding.json(answer));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What an answer covers and how fresh it is, in headers too: a CSV has no room for them in its
     * body, and a spreadsheet or notebook reading it should still be able to tell.
     */
    private static void answerHeaders(Context ctx, Answer answer) {
        Query q = answer.query();
        ctx.header(ANSWER_HEADERS.get(0), q.from().toString());
        ctx.header(ANSWER_HEADERS.get(1), q.to().toString());
        if (answer.batchCutoff() != null) {
            ctx.header(ANSWER_HEADERS.get(2), answer.batchCutoff().toString());
            ctx.header(ANSWER_HEADERS.get(3), Long.toString(answer.generation()));
        }
        if (answer.speedThrough() != null) {
            ctx.header(ANSWER_HEADERS.get(4), answer.speedThrough().toString());
        }
    }

    /**
     * Whether an {@code Accept} header prefers CSV: {@code text/csv} named with a weight above zero
     * and no lower than JSON's, which {@code application/json}, {@code application/*} and
     * {@code *}{@code /*} give ({@code application/json, text/csv;q=0.5} is JSON; a wildcard alone
     * never asks for CSV). A weight that is not an RFC 9110 qvalue counts as 0.
     */
    static boolean prefersCsv(String accept) {
        if (accept == null) {
            return false;
        }
        double csv = 0;
        double json = 0;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].trim().toLowerCase(Locale.ROOT);
            double weight = 1;
            for (int i = 1; i < parts.length; i++) {
                String[] parameter = parts[i].split("=", 2);
                if (parameter[0].trim().equalsIgnoreCase("q")) {
                    String q = parameter.length < 2 ? "" : parameter[1].trim();
                    weight = QVALUE.matcher(q).matches() ? Double.parseDouble(q) : 0;
                }
            }
            if (type.equals("text/csv")) {
                csv = Math.max(csv, weight);
            } else if (type.equals("application/json") || type.equals("application/*") || type.equals("*/*")) {
                json = Math.max(json, weight);
            }
        }
        return csv > 0 && csv >= json;
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r && !(r instanceof DriverException) ? r : e;
        }
    }

    /** The dashboard's files: static, same-origin only, using nothing but the public API. */
    private static void dashboard(Context ctx, String file, String contentType) {
        ctx.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        ctx.contentType(contentType).result(resource("dashboard/" + file));
    }

    private static String resource(String name) {
        try (InputStream in = ServingApp.class.getResourceAsStream("/serving/" + name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
