package dev.lambda.serving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.query.QueryPlanner;
import dev.lambda.serving.query.QueryService;
import dev.lambda.serving.store.ViewRows;
import io.javalin.Javalin;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP contract (status codes, error shape, formats, auth) over an in-memory store. */
class ServingAppTest {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final ViewDefinition SALES = VIEWS.find("sales").orElseThrow();
    private static final Instant T = Instant.parse("2026-11-21T10:00:00Z");
    private static final String KEY = "s3cret-key";
    private static final Instant SALE_TIME = Instant.parse("2026-11-21T09:59:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newHttpClient();
    private Javalin app;
    private boolean storeDown;
    /** When set, the batch layer retired the published state for this version. */
    private String replacedBy;
    /** The published cutoff; {@code null}: none published. */
    private Instant cutoff = T;
    /** The TTL the speed layer records for its rows; {@code null}: no speed progress recorded. */
    private Duration speedTtl;
    /** The view versions the speed layer records on partition 1 (partition 0 runs every view of this instance's file). */
    private Map<String, Instant> partitionOneVersions = Map.of();

    /** Rows (every level) of one sale of 12.50 (batch) and one of 0.10 ingested after the cutoff (speed), both at 09:59. */
    private final ViewRows store = new ViewRows() {
        @Override
        public CompletionStage<Optional<ViewState>> publishedState(ViewDefinition view) {
            if (storeDown) {
                return CompletableFuture.failedFuture(new TimeoutException("no answer"));
            }
            if (cutoff == null) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            Instant built = T.plusSeconds(45); // not the cutoff: what is measured from the cutoff must not be measured from this
            ViewState state = new ViewState(view.name(), view.version(), 1, cutoff, built, built, 2, 0, 3, 9, null, null);
            return CompletableFuture.completedFuture(Optional.of(replacedBy == null ? state : state.retiredBy(replacedBy, T.plusSeconds(7200))));
        }

        @Override
        public CompletionStage<List<BatchRow>> batchRows(ViewDefinition view, long generation, Granularity level, Instant period) {
            Instant bucket = level.bucketOf(SALE_TIME);
            return CompletableFuture.completedFuture(view.name().equals("sales") && period.equals(level.periodOf(bucket))
                    ? List.of(new BatchRow(1, level, bucket, List.of("p,1", "NP"), sale("12.50")))
                    : List.of());
        }

        @Override
        public CompletionStage<List<SpeedRow>> speedRows(ViewDefinition view, Granularity level, Instant period, Instant fromSlot) {
            Instant bucket = level.bucketOf(SALE_TIME);
            return CompletableFuture.completedFuture(view.name().equals("sales") && period.equals(level.periodOf(bucket))
                    ? List.of(new SpeedRow(level, bucket, List.of("p,1", "NP"), T, 0, sale("0.10"), T.plusSeconds(3)))
                    : List.of());
        }

        @Override
        public boolean reachable() {
            return !storeDown;
        }

        @Override
        public CompletionStage<List<SpeedPartitionStatus>> speedPartitions() {
            Map<String, Instant> everyVersion = new LinkedHashMap<>();
            VIEWS.views().forEach(v -> everyVersion.put(v.versionKey(), Instant.EPOCH));
            return CompletableFuture.completedFuture(speedTtl == null ? List.of() : List.of(
                    new SpeedPartitionStatus("speed", 0, 10, T, 0, Map.of(), T, Map.of(Duration.ofMinutes(1), T), Set.of(speedTtl),
                            everyVersion),
                    new SpeedPartitionStatus("speed", 1, 10, T, 0, Map.of(), T, Map.of(Duration.ofMinutes(1), T),
                            Set.of(speedTtl.multipliedBy(10)), partitionOneVersions),
                    // an application id no longer used, behind on partition 1: what it ran says nothing of the speed layer now
                    new SpeedPartitionStatus("speed-old", 1, 4, T, 0, Map.of(), T, Map.of(), Set.of(speedTtl), everyVersion)));
        }
    };

    private static Aggregate sale(String amount) {
        return Aggregate.of(SALES, new Event("x" + amount, "purchase", T, Map.of("amount", amount, "user_id", "u" + amount)));
    }

    private void start(ApiKeys keys) {
        start(keys, new ApiKeys(Map.of()));
    }

    private void start(ApiKeys keys, ApiKeys metricsKeys) {
        QueryService service = new QueryService(store, new QueryPlanner(10_000, 200_000), Duration.ofSeconds(2));
        app = ServingApp.create(VIEWS, service, keys, metricsKeys, List.of("*"), Duration.ofHours(36)).start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        if (app != null) { // a test of a pure function starts none
            app.stop();
        }
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The response to a GET of {@code pathAndQuery} sent as it is, as text (status line, headers, body). */
    private String rawGet(String pathAndQuery) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", app.port())) {
            socket.getOutputStream().write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error");
    }

    @Test
    void answersMergeBatchAndSpeedAsFlatJsonWithFreshness() throws Exception {
        start(new ApiKeys(Map.of()));
        HttpResponse<String> r = get("/api/v1/views/sales/query?from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&granularity=all"
                + "&groupBy=product&metrics=orders,revenue");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode doc = JSON.readTree(r.body());
        assertEquals("2026-11-21T10:00:00Z", doc.get("freshness").get("batchCutoff").asText());
        assertEquals("2026-11-21T10:00:03Z", doc.get("freshness").get("speedThrough").asText());
        JsonNode row = doc.get("rows").get(0);
        assertEquals("p,1", row.get("product").asText());
        assertEquals(2, row.get("orders").asLong());
        assertTrue(r.body().contains("\"revenue\":12.60"), "an exact decimal, as a JSON number: " + r.body());
        assertEquals(null, row.get("bucket"), "no bucket column for granularity=all");
    }

    @Test
    void aFilterValueWithACommaIsNamedWithABackslash() throws Exception {
        start(new ApiKeys(Map.of()));
        String base = "/api/v1/views/sales/query?from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&granularity=all&metrics=orders&filter=";
        String escaped = URLEncoder.encode("product:p\\,1,p9", StandardCharsets.UTF_8);
        JsonNode rows = JSON.readTree(get(base + escaped).body()).get("rows");
        assertEquals(1, rows.size(), rows.toString());
        assertEquals(2, rows.get(0).get("orders").asLong(), "the batch and the speed row of product \"p,1\"");
        String split = URLEncoder.encode("product:p,1", StandardCharsets.UTF_8);
        assertEquals(0, JSON.readTree(get(base + split).body()).get("rows").size(), "unescaped, products \"p\" and \"1\"");
        HttpResponse<String> bad = get(base + URLEncoder.encode("product:C:\\temp", StandardCharsets.UTF_8));
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("filter", error(bad).get("parameter").asText());
        assertTrue(error(bad).get("message").asText().contains("a backslash escapes a comma"), bad.body());
        HttpResponse<String> backslash = get(base + URLEncoder.encode("product:C:\\\\temp", StandardCharsets.UTF_8));
        assertEquals(200, backslash.statusCode(), backslash.body());
    }

    /**
     * A serving instance on an old views file, once the batch retired that version: queries are
     * refused with 410 naming the version to move to, not answered from what is left; the status
     * page says so.
     */
    @Test
    void aRetiredViewVersionIsGoneNotAnsweredFromWhatIsLeft() throws Exception {
        replacedBy = "0123456789ab";
        start(new ApiKeys(Map.of()));
        HttpResponse<String> r = get("/api/v1/views/sales/query?from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&granularity=all");
        assertEquals(410, r.statusCode(), r.body());
        assertEquals("view_version_retired", error(r).get("code").asText());
        assertEquals("view", error(r).get("parameter").asText());
        assertTrue(error(r).get("message").asText().contains("version " + SALES.version() + ", which the batch layer retired at"
                + " 2026-11-21T12:00:00Z for version 0123456789ab"), r.body());
        JsonNode sales = JSON.readTree(get("/api/v1/status").body()).get("views").get(1);
        assertEquals("sales", sales.get("view").asText());
        assertEquals("2026-11-21T12:00:00Z", sales.get("retiredAt").asText());
        assertEquals("0123456789ab", sales.get("replacedBy").asText());

        replacedBy = null;
        assertEquals(200, get("/api/v1/views/sales/query?from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&granularity=all")
                .statusCode(), "published again (a roll-back): answered");
        assertTrue(JSON.readTree(get("/api/v1/status").body()).get("views").get(1).get("retiredAt").isNull());
        assertEquals(0, gauge(get("/metrics").body(), "lambda_view_version_retired{view=\"sales\"}"));
        replacedBy = "0123456789ab";
        assertEquals(1, gauge(get("/metrics").body(), "lambda_view_version_retired{view=\"sales\"}"), "an alert can look for it");
    }

    /** What an alert on the batch looks at: how old each view's cutoff is, and whether it is overdue. */
    @Test
    void metricsTellEachViewsBatchCutoffAgeAndWhetherItIsOverdue() throws Exception {
        start(new ApiKeys(Map.of()));
        cutoff = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.HOURS);
        Instant before = Instant.now();
        String metrics = get("/metrics").body();
        Instant after = Instant.now();
        double age = gauge(metrics, "lambda_batch_cutoff_age_seconds{view=\"sales\"}");
        assertTrue(age >= Duration.between(cutoff, before).toMillis() / 1000.0 && age <= Duration.between(cutoff, after).toMillis() / 1000.0,
                age + " s since " + cutoff);
        assertEquals(0, gauge(metrics, "lambda_batch_overdue{view=\"sales\"}"), "2 to 3 hours old, within the 36 h");
        assertEquals(0, gauge(metrics, "lambda_view_version_retired{view=\"sales\"}"));

        cutoff = Instant.now().minus(Duration.ofHours(37));
        assertEquals(1, gauge(get("/metrics").body(), "lambda_batch_overdue{view=\"sales\"}"), "older than 36 h");

        cutoff = null;
        metrics = get("/metrics").body();
        assertTrue(Double.isNaN(gauge(metrics, "lambda_batch_cutoff_age_seconds{view=\"sales\"}")), "none published");
        assertEquals(1, gauge(metrics, "lambda_batch_overdue{view=\"sales\"}"), "none published");

        cutoff = T;
        storeDown = true;
        HttpResponse<String> down = get("/metrics");
        assertEquals(200, down.statusCode(), "the request metrics still answer");
        assertTrue(Double.isNaN(gauge(down.body(), "lambda_batch_cutoff_age_seconds{view=\"sales\"}")));
        assertEquals(1, gauge(down.body(), "lambda_batch_overdue{view=\"sales\"}"), "unknown counts as overdue: the alert fires");
    }

    /**
     * Answers need every speed row from the cutoff on, and those rows live for the speed layer's TTL:
     * a short TTL brings the alert forward (to half of it), and a cutoff older than the TTL says that
     * events after it may already be counted nowhere.
     */
    @Test
    void aBatchIsOverdueBeforeTheSpeedRowsItNeedsCanExpire() throws Exception {
        start(new ApiKeys(Map.of()));
        speedTtl = Duration.ofHours(4); // the shortest of the partitions' TTLs counts
        cutoff = Instant.now().minus(Duration.ofMinutes(90));
        JsonNode view = JSON.readTree(get("/api/v1/status").body()).get("views").get(0);
        assertFalse(view.get("batchOverdue").asBoolean(), view.toString());
        assertFalse(view.get("speedRowsMayHaveExpired").asBoolean(), view.toString());
        assertEquals(0, gauge(get("/metrics").body(), "lambda_batch_overdue{view=\"sales\"}"));

        cutoff = Instant.now().minus(Duration.ofHours(3));
        view = JSON.readTree(get("/api/v1/status").body()).get("views").get(0);
        assertTrue(view.get("batchOverdue").asBoolean(), "older than half the TTL, though well within --batch-overdue: " + view);
        assertFalse(view.get("speedRowsMayHaveExpired").asBoolean(), view.toString());
        assertEquals(1, gauge(get("/metrics").body(), "lambda_batch_overdue{view=\"sales\"}"));

        cutoff = Instant.now().minus(Duration.ofHours(5));
        view = JSON.readTree(get("/api/v1/views/sales").body()).get("freshness");
        assertTrue(view.get("speedRowsMayHaveExpired").asBoolean(), "older than the TTL: " + view);

        speedTtl = null; // no speed progress recorded: --batch-overdue alone
        view = JSON.readTree(get("/api/v1/status").body()).get("views").get(0);
        assertFalse(view.get("batchOverdue").asBoolean(), view.toString());
        assertFalse(view.get("speedRowsMayHaveExpired").asBoolean(), view.toString());
    }

    /**
     * A view changed, and the speed layer restarted on the new file before this instance: its
     * answers miss the events since on the partitions that layer runs, which /status, the view's
     * freshness and /metrics say.
     */
    @Test
    void aSpeedLayerRunningAnotherVersionOfTheViewIsReported() throws Exception {
        start(new ApiKeys(Map.of()));
        speedTtl = Duration.ofDays(7);
        Map<String, Instant> changedSales = new LinkedHashMap<>();
        VIEWS.views().forEach(v -> changedSales.put(v.name().equals("sales") ? "sales/0123456789abcdef" : v.versionKey(), T));
        partitionOneVersions = changedSales;
        JsonNode sales = JSON.readTree(get("/api/v1/views/sales").body()).get("freshness");
        assertEquals("[1]", sales.get("speedPartitionsWithoutThisVersion").toString(), sales.toString());
        JsonNode pageviews = JSON.readTree(get("/api/v1/views/pageviews").body()).get("freshness");
        assertEquals("[]", pageviews.get("speedPartitionsWithoutThisVersion").toString(), pageviews.toString());
        String scrape = get("/metrics").body();
        assertEquals(1, gauge(scrape, "lambda_speed_version_missing_partitions{view=\"sales\"}"));
        assertEquals(0, gauge(scrape, "lambda_speed_version_missing_partitions{view=\"pageviews\"}"));

        assertEquals("[1]", statusOf("sales").get("speedPartitionsWithoutThisVersion").toString());

        partitionOneVersions = Map.of(); // recorded by a release before versions were: nothing known, nothing said
        sales = statusOf("sales");
        assertEquals("[]", sales.get("speedPartitionsWithoutThisVersion").toString(), sales.toString());
    }

    private JsonNode statusOf(String view) throws Exception {
        for (JsonNode v : JSON.readTree(get("/api/v1/status").body()).get("views")) {
            if (v.get("view").asText().equals(view)) {
                return v;
            }
        }
        throw new AssertionError("no " + view + " in /api/v1/status");
    }

    /** /metrics names every view: with a metrics key set, it asks for it, whatever the API's keys. */
    @Test
    void metricsAskForTheirOwnKeyWhenOneIsSet() throws Exception {
        start(new ApiKeys(Map.of()), ApiKeys.parse(List.of(ApiKeys.sha256("scraper-key")), "--metrics-key"));
        HttpResponse<String> none = get("/metrics");
        assertEquals(401, none.statusCode());
        assertEquals("unauthorized", error(none).get("code").asText());
        assertEquals(401, get("/metrics", "Authorization", "Bearer " + KEY).statusCode(), "another key");
        HttpResponse<String> scraped = get("/metrics", "Authorization", "Bearer scraper-key");
        assertEquals(200, scraped.statusCode());
        assertTrue(scraped.body().contains("lambda_batch_overdue{view=\"sales\"}"), scraped.body());
        assertEquals(200, get("/api/v1/views").statusCode(), "the API stays as configured: open");
        assertEquals(200, get("/health").statusCode());
    }

    /** The value of one sample in Prometheus' text format. */
    private static double gauge(String scrape, String sample) {
        return scrape.lines().filter(l -> l.startsWith(sample + " ")).map(l -> Double.parseDouble(l.substring(sample.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + sample + " in\n" + scrape));
    }

    @Test
    void csvByParameterOrAcceptHeader() throws Exception {
        start(new ApiKeys(Map.of()));
        String q = "/api/v1/views/sales/query?from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&granularity=hour&groupBy=product";
        String expected = "bucket,product,orders,revenue,smallest,biggest,buyers\r\n2026-11-21T09:00:00Z,\"p,1\",2,12.60,0.10,12.50,2\r\n";
        HttpResponse<String> byParam = get(q + "&format=csv");
        assertEquals(expected, byParam.body());
        assertTrue(byParam.headers().firstValue("Content-Type").orElse("").startsWith("text/csv"));
        assertEquals("attachment; filename=\"sales.csv\"", byParam.headers().firstValue("Content-Disposition").orElse(null));
        assertEquals(expected, get(q, "Accept", "text/csv").body());
        assertEquals(expected, get(q, "Accept", "text/csv;q=0.9, application/json;q=0.5").body());
        assertEquals("Accept", byParam.headers().firstValue("Vary").orElse(null));
        assertTrue(get(q, "Accept", "application/json, text/csv;q=0.5").body().startsWith("{\"view\""));
    }

    /** Whether an Accept header asks for CSV before JSON, by the weights RFC 9110 gives them. */
    @Test
    void acceptIsReadWithItsWeights() {
        for (String csv : List.of("text/csv", "TEXT/CSV", "text/csv;q=0.9, application/json;q=0.5", "text/csv; q = 0.5, */*;q=0.4",
                "application/json;q=abc, text/csv;q=0.1", "text/csv, application/json")) {
            assertTrue(ServingApp.prefersCsv(csv), csv);
        }
        for (String json : List.of("", "*/*", "text/*", "text/html,*/*;q=0.8", "application/json, text/csv;q=0.5", "text/csv;q=0",
                "text/csv;q=abc", "text/csv;q=", "text/csv;q=NaN", "text/csv;q=5", "text/csv;q=0.5, */*", "text/csv;q=0.5, application/*",
                "application/json;q=NaN, text/csv;q=NaN")) {
            assertFalse(ServingApp.prefersCsv(json), json);
        }
    }

    @Test
    void anAnswerSaysWhatItCoversAndHowFreshInHeadersForEveryFormat() throws Exception {
        start(new ApiKeys(Map.of()));
        String q = "/api/v1/views/sales/query?from=2026-11-21T09:03:27.123Z&to=2026-11-21T09:59:59.999Z&granularity=hour&align=outer";
        for (String format : List.of("json", "csv")) {
            HttpResponse<String> r = get(q + "&format=" + format, "Origin", "https://grafana.example.com");
            Map<String, String> headers = new LinkedHashMap<>();
            for (String h : ServingApp.ANSWER_HEADERS) {
                headers.put(h, r.headers().firstValue(h).orElse(null));
            }
            assertEquals(Map.of("Lambda-From", "2026-11-21T09:00:00Z", "Lambda-To", "2026-11-21T10:00:00Z", "Lambda-Batch-Cutoff",
                    T.toString(), "Lambda-Batch-Generation", "1", "Lambda-Speed-Through", T.plusSeconds(3).toString()), headers, format);
            assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElse(null), "answers change within seconds");
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null), "never taken for a page or script");
            String exposed = r.headers().firstValue("Access-Control-Expose-Headers").orElse("");
            assertTrue(ServingApp.ANSWER_HEADERS.stream().allMatch(exposed::contains), "a browser dashboard may read them: " + exposed);
        }
        cutoff = null;
        HttpResponse<String> unpublished = get(q);
        assertTrue(unpublished.headers().firstValue("Lambda-Batch-Cutoff").isEmpty(), "no cutoff before the batch publishes");
        assertEquals("2026-11-21T09:00:00Z", unpublished.headers().firstValue("Lambda-From").orElse(null));
    }

    @Test
    void badInputGetsAJsonErrorNamingTheParameter() throws Exception {
        start(new ApiKeys(Map.of()));
        String base = "/api/v1/views/sales/query?from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z";
        Object[][] cases = {
            {"/api/v1/views/nope/query?from=2026-11-21&to=2026-11-22", 404, "view"},
            {base + "&metrics=orders,avg", 400, "metrics"},
            {base + "&metrics=,", 400, "metrics"},
            {base + "&groupBy=city", 400, "groupBy"},
            {base + "&filter=city:x", 400, "filter"},
            {base + "&filter=country", 400, "filter"},
            {base + "&orderBy=-buyers&metrics=orders", 400, "orderBy"},
            {base + "&limit=0", 400, "limit"},
            {base + "&format=xml", 400, "format"},
            {base + "&format=csv&format=json", 400, "format"},
            {base + "&colour=red", 400, "colour"},
            {"/api/v1/views/sales/query?from=yesterday&to=2026-11-21T10:00:00Z", 400, "from"},
            {"/api/v1/views/sales/query?to=2026-11-21T10:00:00Z", 400, "from"},
            {"/api/v1/views/sales/query?from=2026-11-21T10:00:00Z&to=2026-11-21T10:00:00Z", 400, "to"},
            {"/api/v1/views/activity/query?from=2026-11-21&to=2026-11-22&granularity=minute", 400, "granularity"},
            {"/api/v1/views/sales/query?from=2025-11-21&to=2026-11-21&granularity=minute", 400, "granularity"},
            {"/api/v1/views/sales/query?from=2026-11-21T10:00:30Z&to=2026-11-21T11:00:00Z", 400, "from"},
            {"/api/v1/views/sales/query?from=%2B300000000-01-01T00:00:00Z&to=%2B300000000-01-02T00:00:00Z", 400, "from"},
            {"/api/v1/views/sales/query?from=2026-11-21&to=%2B300000000-01-02T00:00:00Z&granularity=day", 400, "to"},
        };
        for (Object[] c : cases) {
            HttpResponse<String> r = get((String) c[0]);
            assertEquals(c[1], r.statusCode(), c[0] + " -> " + r.body());
            JsonNode e = error(r);
            assertEquals(c[2], e.get("parameter").asText(), c[0] + " -> " + r.body());
            assertTrue(e.get("message").asText().length() > 10, r.body());
        }
        for (String malformed : List.of(base + "&filter=product:50%", base + "&filter=product:%ZZ")) {
            String r = rawGet(malformed); // java.net.http refuses to send such a URL; a hand-written client may
            assertTrue(r.startsWith("HTTP/1.1 400"), malformed + " -> " + r);
            assertTrue(r.contains("\"parameter\":\"filter\"") && r.contains("%-escape"), malformed + " -> " + r);
        }
        assertEquals(404, get("/no/such/path").statusCode());
        assertEquals("not_found", error(get("/no/such/path")).get("code").asText());

        HttpResponse<String> plus = get("/api/v1/views/sales/query?from=2026-11-21T15:00:00+05:45&to=2026-11-22");
        assertTrue(error(plus).get("message").asText().endsWith("a + in a URL must be written %2B (2026-11-21T10:00:00%2B05:45)"), plus.body());
        assertEquals(200, get("/api/v1/views/sales/query?from=2026-11-21T15:00:00%2B05:45&to=2026-11-22").statusCode());
    }

    @Test
    void grafanasTimesAreTakenAsItSendsThem() throws Exception {
        start(new ApiKeys(Map.of()));
        String path = "/api/v1/views/sales/query?granularity=hour&groupBy=product";
        JsonNode iso = JSON.readTree(get(path + "&from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z").body());
        assertEquals(1, iso.get("rows").size(), iso.toString());
        long nine = Instant.parse("2026-11-21T09:00:00Z").toEpochMilli();
        JsonNode millis = JSON.readTree(get(path + "&from=" + nine + "&to=" + (nine + 3_600_000)).body()); // ${__from}, ${__to}
        assertEquals(iso, millis);

        // ${__from:date:iso} and ${__to:date:iso} of "now-1h to now" rounded to the hour: never on a boundary of their own
        String grafanaRange = "&from=2026-11-21T09:03:27.123Z&to=2026-11-21T09:59:59.999Z";
        HttpResponse<String> exact = get(path + grafanaRange);
        assertEquals(400, exact.statusCode(), exact.body());
        assertTrue(error(exact).get("message").asText().endsWith("align=outer widens the range to whole buckets"), exact.body());
        JsonNode widened = JSON.readTree(get(path + grafanaRange + "&align=outer").body());
        assertEquals(iso, widened, "from down and to up to whole hours, and the answer says so");

        JsonNode wholeMinutes = JSON.readTree(get("/api/v1/views/sales/query?granularity=all&align=outer"
                + "&from=2026-11-21T09:59:30.500Z&to=2026-11-21T09:59:31Z").body());
        assertEquals("2026-11-21T09:59:00Z", wholeMinutes.get("from").asText(), "all: whole buckets of the view's base");
        assertEquals("2026-11-21T10:00:00Z", wholeMinutes.get("to").asText());
        assertEquals(2, wholeMinutes.get("rows").get(0).get("orders").asLong(), wholeMinutes.toString());

        assertEquals(200, get(path + "&from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&_=1795255200123").statusCode(), "a cache-buster");
        Object[][] refused = {
            {path + grafanaRange + "&align=inner", "align", "align must be outer"},
            {path + "&from=1795255200&to=1795258800", "from", "seconds must be multiplied by 1000"}, // ${__from:date:seconds}
            {path + "&from=001795255200&to=" + (nine + 3_600_000), "from", "the first not 0"},
            {path + "&from=" + nine + "000&to=" + (nine + 3_600_000) + "000", "from", "12 to 15 digits"}, // microseconds
            {"/api/v1/views/sales/query?granularity=day&align=outer&from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59.999Z", "to",
                "widened by align=outer to +10000-01-01T00:00:00Z, is outside the times"},
            {path + "&from=" + nine + "&to=" + (nine + 3_600_000) + "&align=outer&align=outer", "align", "align may be given once"},
        };
        for (Object[] c : refused) {
            HttpResponse<String> r = get((String) c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[1], error(r).get("parameter").asText(), r.body());
            assertTrue(error(r).get("message").asText().contains((String) c[2]), r.body());
        }
    }

    @Test
    void dayBucketsFollowTheTimeZoneAskedFor() throws Exception {
        start(new ApiKeys(Map.of()));
        String nepal = "/api/v1/views/sales/query?granularity=day&metrics=orders&timeZone=Asia/Kathmandu"
                + "&from=2026-11-20T18:15:00Z&to=2026-11-21T18:15:00Z";
        JsonNode day = JSON.readTree(get(nepal).body());
        assertEquals("Asia/Kathmandu", day.get("timeZone").asText(), day.toString());
        assertEquals("[{\"bucket\":\"2026-11-20T18:15:00Z\",\"orders\":2}]", day.get("rows").toString(),
                "the sale at 09:59 UTC, 15:44 there");
        JsonNode offset = JSON.readTree(get(nepal.replace("Asia/Kathmandu", "%2B05:45")).body());
        assertEquals("+05:45", offset.get("timeZone").asText());
        assertEquals(day.get("rows"), offset.get("rows"));
        JsonNode aligned = JSON.readTree(get("/api/v1/views/sales/query?granularity=day&metrics=orders&timeZone=Asia/Kathmandu&align=outer"
                + "&from=2026-11-21T10:03:00Z&to=2026-11-21T11:00:00Z").body());
        assertEquals("2026-11-20T18:15:00Z", aligned.get("from").asText(), "a whole day of Nepal's");
        assertEquals("2026-11-21T18:15:00Z", aligned.get("to").asText());
        assertEquals("UTC", JSON.readTree(get(nepal.replace("&timeZone=Asia/Kathmandu", "")).body()).get("timeZone").asText());
        assertEquals("UTC", JSON.readTree(get(nepal.replace("Asia/Kathmandu", "utc")).body()).get("timeZone").asText(),
                "as Grafana writes it");

        HttpResponse<String> unknown = get(nepal.replace("Asia/Kathmandu", "Mars/Olympus_Mons"));
        assertEquals(400, unknown.statusCode(), unknown.body());
        assertEquals("timeZone", error(unknown).get("parameter").asText());
        HttpResponse<String> plus = get(nepal.replace("Asia/Kathmandu", "+05:45"));
        assertTrue(error(plus).get("message").asText().endsWith("a + in a URL must be written %2B (%2B05:45)"), plus.body());
        HttpResponse<String> hourView = get("/api/v1/views/activity/query?granularity=day&timeZone=Asia/Kathmandu"
                + "&from=2026-11-20&to=2026-11-22");
        assertEquals("timeZone", error(hourView).get("parameter").asText(), "activity keeps hours, and Nepal's days start at :15");
        HttpResponse<String> widened = get("/api/v1/views/activity/query?granularity=day&timeZone=Asia/Kathmandu&align=outer"
                + "&from=2026-11-20&to=2026-11-22");
        assertEquals("timeZone", error(widened).get("parameter").asText(), "widened to Nepal's days, the zone is still what fails");
        HttpResponse<String> grafanasTo = get("/api/v1/views/activity/query?granularity=hour&timeZone=Europe/Berlin"
                + "&from=2026-11-20T00:00:00Z&to=2026-11-20T10:59:59.999Z");
        assertEquals("to", error(grafanasTo).get("parameter").asText(), "Berlin's hours are fine; to is what is off: " + grafanasTo.body());
        HttpResponse<String> yearZero = get("/api/v1/views/sales/query?granularity=day&timeZone=%2B14:00&align=outer"
                + "&from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z");
        assertEquals("from", error(yearZero).get("parameter").asText(), yearZero.body());
        assertTrue(error(yearZero).get("message").asText().contains("widened by align=outer to 0000-12-31T10:00:00Z"), yearZero.body());
    }

    @Test
    void anUnreachableStoreIsA503WithRetryAfterAndRecovers() throws Exception {
        start(new ApiKeys(Map.of()));
        storeDown = true;
        HttpResponse<String> r = get("/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22");
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("5", r.headers().firstValue("Retry-After").orElse(null));
        assertEquals("unavailable", error(r).get("code").asText());
        assertTrue(error(r).get("message").asText().contains("not answered within the query timeout"), r.body());
        assertEquals(503, get("/ready").statusCode());
        assertEquals(200, get("/health").statusCode());
        storeDown = false;
        assertEquals(200, get("/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22").statusCode());
        assertEquals(200, get("/ready").statusCode());
    }

    @Test
    void apiKeysGuardTheApiButNotHealth() throws Exception {
        start(ApiKeys.parse(List.of(ApiKeys.sha256(KEY) + "=sales"), "--api-key"));
        String q = "/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22";
        HttpResponse<String> none = get(q);
        assertEquals(401, none.statusCode());
        assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(null));
        assertEquals(401, get(q, "Authorization", "Bearer wrong").statusCode());
        assertEquals(200, get(q, "Authorization", "Bearer " + KEY).statusCode());
        HttpResponse<String> other = get("/api/v1/views/pageviews/query?from=2026-11-21&to=2026-11-22", "Authorization", "Bearer " + KEY);
        assertEquals(404, other.statusCode(), "another view is as unknown to the key as one that does not exist");
        assertEquals(get("/api/v1/views/nosuch/query?from=2026-11-21&to=2026-11-22", "Authorization", "Bearer " + KEY).body()
                .replace("nosuch", "pageviews"), other.body());
        assertEquals(200, get("/health").statusCode());
        JsonNode status = JSON.readTree(get("/api/v1/status", "Authorization", "Bearer " + KEY).body());
        assertEquals(1, status.get("views").size(), "a key sees only its views");
        JsonNode views = JSON.readTree(get("/api/v1/views", "Authorization", "Bearer " + KEY).body()).get("views");
        assertEquals(List.of("sales"), names(views), "nor the definitions of the others");
        HttpResponse<String> unknown = get("/api/v1/views/nope/query?from=2026-11-21&to=2026-11-22", "Authorization", "Bearer " + KEY);
        assertEquals(404, unknown.statusCode());
        assertTrue(error(unknown).get("message").asText().endsWith("(views: [sales])"), unknown.body());
    }

    private static List<String> names(JsonNode views) {
        List<String> names = new java.util.ArrayList<>();
        views.forEach(v -> names.add(v.get("name").asText()));
        return names;
    }

    /**
     * A browser dashboard on another origin sends its key in a header, so it asks first with a
     * preflight that carries no key: the preflight is answered, the query still needs the key.
     */
    @Test
    void aBrowserOnAnotherOriginPassesThePreflightWithoutAKeyAndQueriesWithIt() throws Exception {
        start(ApiKeys.parse(List.of(ApiKeys.sha256(KEY) + "=sales"), "--api-key"));
        String q = "/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22";
        HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + q))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "http://dash.example")
                .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "authorization").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, preflight.statusCode(), preflight.body());
        assertEquals("*", preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertTrue(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase().contains("authorization"),
                preflight.headers().map().toString());
        assertEquals(401, get(q, "Origin", "http://dash.example").statusCode());
        HttpResponse<String> keyed = get(q, "Origin", "http://dash.example", "Authorization", "Bearer " + KEY);
        assertEquals(200, keyed.statusCode());
        assertEquals("*", keyed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    }

    @Test
    void viewsStatusDocsAndMetrics() throws Exception {
        start(new ApiKeys(Map.of()));
        JsonNode views = JSON.readTree(get("/api/v1/views").body()).get("views");
        assertEquals(3, views.size());
        assertEquals("sales", views.get(1).get("name").asText());
        assertEquals(SALES.version(), views.get(1).get("version").asText());
        JsonNode one = JSON.readTree(get("/api/v1/views/sales").body());
        assertEquals("2026-11-21T10:00:00Z", one.get("freshness").get("batchCutoff").asText());
        JsonNode status = JSON.readTree(get("/api/v1/status").body());
        assertEquals(2, status.get("views").get(0).get("batchEventsIn").asLong());
        cutoff = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.HOURS);
        assertFalse(JSON.readTree(get("/api/v1/status").body()).get("views").get(0).get("batchOverdue").asBoolean(),
                "2 to 3 hours old, within the 36 h");
        cutoff = Instant.now().minus(Duration.ofHours(37));
        assertTrue(JSON.readTree(get("/api/v1/status").body()).get("views").get(0).get("batchOverdue").asBoolean(), "older than 36 h");
        assertTrue(JSON.readTree(get("/openapi.json").body()).get("paths").has("/api/v1/views/{view}/query"));
        assertTrue(get("/docs").body().contains("openapi.json"));
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("lambda_http_requests_total{method=\"GET\",route=\"/api/v1/views\",status=\"200\"}"), metrics);
        assertEquals("*", get("/api/v1/views", "Origin", "http://dash.example").headers().firstValue("Access-Control-Allow-Origin")
                .orElse(null));
    }
}
