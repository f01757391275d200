package dev.lambda.serving.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lambda.cluster.CassandraNode;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.common.cassandra.BatchRow;
import dev.lambda.common.cassandra.BatchRowsTable;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.SpeedRow;
import dev.lambda.common.cassandra.SpeedRowsTable;
import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.config.Flags;
import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.Main;
import dev.lambda.serving.config.ServingConfig;
import dev.lambda.serving.http.ApiKeys;
import io.javalin.Javalin;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The real server over real Cassandra: answers equal an oracle over the events behind the rows; auth; outages. */
@ExtendWith(LocalClusterExtension.class)
class ServingLayerIT {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final ViewDefinition SALES = VIEWS.find("sales").orElseThrow();
    private static final IngestSlots SLOTS = new IngestSlots(Duration.ofHours(1));
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private record Sale(String id, Instant ts, Instant ingest, int partition, String product, String country, String amount, String user) {
        Event event() {
            return new Event(id, "purchase", ts, Map.of("product", product, "country", country, "amount", amount, "user_id", user));
        }
    }

    private static List<String> args(CassandraNode node, String keyspace, String... extra) {
        var c = node.contactPoint();
        List<String> args = new ArrayList<>(List.of("--cassandra", c.getHostString() + ":" + c.getPort(), "--cassandra-dc",
                node.localDatacenter(), "--keyspace", keyspace, "--views", "../config/views.yml", "--api-port", "0", "--host", "127.0.0.1"));
        args.addAll(List.of(extra));
        return args;
    }

    private static Javalin serve(List<String> args) {
        return Main.start(ServingConfig.from(ServingConfig.flags(args.toArray(String[]::new), Map.of())), VIEWS);
    }

    private HttpResponse<String> get(Javalin app, String path, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void randomQueriesAcrossTheCutoffEqualTheOracle(LocalCluster cluster) throws Exception {
        String keyspace = "serving_oracle";
        Random random = new Random(21);
        Instant start = Instant.parse("2026-11-19T00:00:00Z");
        Instant cutoff = Instant.parse("2026-11-20T12:00:00Z");
        List<Sale> sales = new ArrayList<>();
        for (int i = 0; i < 4_000; i++) {
            Instant ingest = start.plusSeconds(random.nextInt(2 * 86_400));
            Instant ts = random.nextInt(10) == 0 ? ingest.minusSeconds(random.nextInt(86_400)) : ingest.minusSeconds(random.nextInt(60));
            sales.add(new Sale("s" + i, ts, ingest, random.nextInt(3), "p" + random.nextInt(6), new String[] {"NP", "IN", "DE"}[random.nextInt(3)],
                    random.nextInt(10_000) / 100 + "." + String.format("%02d", random.nextInt(100)), "u" + random.nextInt(200)));
        }
        try (CqlSession session = CassandraSessions.openWithSchema(ServingConfig.from(ServingConfig.flags(
                args(cluster.cassandra(), keyspace).toArray(String[]::new), Map.of())).cassandra())) {
            writeRows(session, keyspace, sales, cutoff);
        }
        Javalin app = serve(args(cluster.cassandra(), keyspace));
        try {
            for (int q = 0; q < 60; q++) {
                String[] grans = {"minute", "hour", "day", "all"};
                String granularity = grans[random.nextInt(4)];
                Instant from = start.plus(random.nextInt(36), ChronoUnit.HOURS);
                Instant to = from.plus(granularity.equals("minute") ? 1 + random.nextInt(6) : 1 + random.nextInt(48), ChronoUnit.HOURS);
                List<String> groupBy = random.nextBoolean() ? List.of("product") : random.nextBoolean() ? List.of("country", "product") : List.of();
                String filter = random.nextInt(3) == 0 ? "NP" : null;
                String path = "/api/v1/views/sales/query?from=" + from + "&to=" + to + "&granularity=" + granularity
                        + (groupBy.isEmpty() ? "" : "&groupBy=" + String.join(",", groupBy)) + (filter == null ? "" : "&filter=country:" + filter);
                HttpResponse<String> r = get(app, path);
                assertEquals(200, r.statusCode(), path + " -> " + r.body());
                JsonNode doc = JSON.readTree(r.body());
                assertEquals(cutoff.toString(), doc.get("freshness").get("batchCutoff").asText());
                Map<List<String>, long[]> expected = oracle(sales, from, to, granularity, groupBy, filter);
                assertEquals(expected.size(), doc.get("rows").size(), path);
                for (JsonNode row : doc.get("rows")) {
                    List<String> key = new ArrayList<>();
                    key.add(granularity.equals("all") ? "" : row.get("bucket").asText());
                    groupBy.forEach(g -> key.add(row.get(g).asText()));
                    long[] x = expected.get(key);
                    assertTrue(x != null, path + ": unexpected row " + row);
                    assertEquals(x[0], row.get("orders").asLong(), path + " " + key + " orders");
                    assertEquals(BigDecimal.valueOf(x[1], 2), row.get("revenue").decimalValue().setScale(2), path + " " + key + " revenue");
                    assertEquals(BigDecimal.valueOf(x[2], 2), row.get("smallest").decimalValue().setScale(2), path + " " + key + " min");
                    assertEquals(BigDecimal.valueOf(x[3], 2), row.get("biggest").decimalValue().setScale(2), path + " " + key + " max");
                    assertEquals(x[4], row.get("buyers").asLong(), Math.max(1, x[4] * 0.05), path + " " + key + " buyers");
                }
            }
            // twenty years, not on day edges: read at hour level, two reads for each of ~7,300 days, far more than the
            // driver's connections take at once (such a query used to be a 503)
            Instant from = Instant.parse("2006-11-20T06:00:00Z");
            Instant to = Instant.parse("2026-11-21T06:00:00Z");
            HttpResponse<String> r = get(app, "/api/v1/views/sales/query?from=" + from + "&to=" + to + "&granularity=all");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode all = JSON.readTree(r.body()).get("rows").get(0);
            long[] x = oracle(sales, from, to, "all", List.of(), null).get(List.of(""));
            assertEquals(x[0], all.get("orders").asLong(), "every sale of the twenty years");
            assertEquals(BigDecimal.valueOf(x[1], 2), all.get("revenue").decimalValue().setScale(2));
        } finally {
            app.stop();
        }
    }

    /** Independent computation: plain loops over the sales, cents as longs; distinct users as a set. */
    private static Map<List<String>, long[]> oracle(List<Sale> sales, Instant from, Instant to, String granularity, List<String> groupBy,
                                                     String country) {
        Map<List<String>, long[]> out = new HashMap<>();
        Map<List<String>, Set<String>> users = new HashMap<>();
        for (Sale s : sales) {
            Instant minute = s.ts().truncatedTo(ChronoUnit.MINUTES);
            if (minute.isBefore(from) || !minute.isBefore(to) || (country != null && !country.equals(s.country()))) {
                continue;
            }
            List<String> key = new ArrayList<>();
            key.add(switch (granularity) {
                case "minute" -> minute.toString();
                case "hour" -> s.ts().truncatedTo(ChronoUnit.HOURS).toString();
                case "day" -> s.ts().atOffset(ZoneOffset.UTC).truncatedTo(ChronoUnit.DAYS).toInstant().toString();
                default -> "";
            });
            for (String g : groupBy) {
                key.add(g.equals("product") ? s.product() : s.country());
            }
            long cents = new BigDecimal(s.amount()).movePointRight(2).longValueExact();
            long[] x = out.computeIfAbsent(key, k -> new long[] {0, 0, Long.MAX_VALUE, Long.MIN_VALUE, 0});
            x[0]++;
            x[1] += cents;
            x[2] = Math.min(x[2], cents);
            x[3] = Math.max(x[3], cents);
            users.computeIfAbsent(key, k -> new HashSet<>()).add(s.user());
        }
        users.forEach((k, u) -> out.get(k)[4] = u.size());
        return out;
    }

    /** Rows as the layers write them: generation rows for sales ingested before T, speed rows per slot and partition, any slot. */
    private static void writeRows(CqlSession session, String keyspace, List<Sale> sales, Instant cutoff) {
        Map<List<Object>, Aggregate> batch = new HashMap<>();
        Map<List<Object>, Aggregate> speed = new HashMap<>();
        Map<List<Object>, Instant> latest = new HashMap<>();
        for (Sale s : sales) {
            for (Granularity level : SALES.levels()) {
                List<Object> key = List.of(level, level.bucketOf(s.ts()), List.of(s.product(), s.country()));
                Aggregate one = Aggregate.of(SALES, s.event());
                if (s.ingest().isBefore(cutoff)) {
                    batch.merge(key, one, Aggregate::plus);
                }
                // the speed layer also has rows before the cutoff (until their TTL): readers must skip them
                List<Object> speedKey = List.of(level, level.bucketOf(s.ts()), List.of(s.product(), s.country()),
                        SLOTS.slotOf(s.ingest().toEpochMilli()), s.partition());
                speed.merge(speedKey, one, Aggregate::plus);
                latest.merge(speedKey, s.ingest(), (a, b) -> a.isAfter(b) ? a : b);
            }
        }
        long generation = cutoff.toEpochMilli();
        BatchRowsTable batchTable = new BatchRowsTable(session, keyspace);
        SpeedRowsTable speedTable = new SpeedRowsTable(session, keyspace, Duration.ofDays(3650));
        // bounded in flight: more requests than the connection pool's stream ids fail with "no connection available",
        // and on a busy machine a few hundred writes queued on one partition can outlast Cassandra's 2 s write timeout
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(32);
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        java.util.function.Consumer<java.util.function.Supplier<java.util.concurrent.CompletionStage<Void>>> write = w -> {
            inFlight.acquireUninterruptibly();
            writes.add(w.get().toCompletableFuture().whenComplete((ok, e) -> inFlight.release()));
        };
        batch.forEach((k, a) -> write.accept(() -> batchTable.write(SALES, new BatchRow(generation, (Granularity) k.get(0), (Instant) k.get(1),
                (List<String>) k.get(2), a))));
        speed.forEach((k, a) -> write.accept(() -> speedTable.write(SALES, new SpeedRow((Granularity) k.get(0), (Instant) k.get(1),
                (List<String>) k.get(2), (Instant) k.get(3), (Integer) k.get(4), a, latest.get(k)))));
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        assertTrue(new ViewStateTable(session, keyspace).publish(new ViewState("sales", SALES.version(), generation, cutoff, cutoff, cutoff,
                sales.size(), 0, batch.size(), 1, null, null), null, DefaultConsistencyLevel.LOCAL_QUORUM).toCompletableFuture().join(),
                "the first state of " + keyspace);
    }

    @Test
    void theStatusPageGivesEachViewTheIngestTimeOfItsNewestSpeedRow(LocalCluster cluster) throws Exception {
        String keyspace = "serving_status";
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant bucket = Granularity.MINUTE.bucketOf(now);
        Aggregate one = Aggregate.of(SALES, new Sale("s", now, now, 0, "p1", "NP", "1.00", "u1").event());
        try (CqlSession session = CassandraSessions.openWithSchema(ServingConfig.from(ServingConfig.flags(
                args(cluster.cassandra(), keyspace).toArray(String[]::new), Map.of())).cassandra())) {
            SpeedRowsTable speed = new SpeedRowsTable(session, keyspace, Duration.ofDays(1));
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            int partition = 0;
            for (Instant ingest : List.of(now.minusSeconds(9), now.minusSeconds(2), now.minusSeconds(5))) {
                writes.add(speed.write(SALES, new SpeedRow(Granularity.MINUTE, bucket, List.of("p" + partition, "NP"), SLOTS.slotOf(ingest.toEpochMilli()),
                        partition++, one, ingest)).toCompletableFuture());
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        }
        Javalin app = serve(args(cluster.cassandra(), keyspace));
        try {
            HttpResponse<String> r = get(app, "/api/v1/status");
            assertEquals(200, r.statusCode(), r.body());
            Map<String, JsonNode> byView = new HashMap<>();
            JSON.readTree(r.body()).get("views").forEach(v -> byView.put(v.get("view").asText(), v));
            assertEquals(now.minusSeconds(2).toString(), byView.get("sales").get("speedThrough").asText());
            assertTrue(byView.get("pageviews").get("speedThrough").isNull(), "a view without speed rows has no speed time");
        } finally {
            app.stop();
        }
    }

    @Test
    void authOnAndOff(LocalCluster cluster) throws Exception {
        Javalin open = serve(args(cluster.cassandra(), "serving_auth"));
        try {
            assertEquals(200, get(open, "/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22").statusCode());
        } finally {
            open.stop();
        }
        Javalin guarded = serve(args(cluster.cassandra(), "serving_auth", "--api-key", ApiKeys.sha256("k1") + "=sales"));
        try {
            assertEquals(401, get(guarded, "/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22").statusCode());
            assertEquals(200, get(guarded, "/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22", "Authorization", "Bearer k1").statusCode());
            assertEquals(404, get(guarded, "/api/v1/views/activity/query?from=2026-11-21&to=2026-11-22", "Authorization", "Bearer k1").statusCode());
            assertEquals(200, get(guarded, "/health").statusCode());
        } finally {
            guarded.stop();
        }
    }

    @Test
    void cassandraStoppedGives503AndRestartedGives200Again(@TempDir Path dir) throws Exception {
        CassandraNode node = CassandraNode.start(dir, 0, false);
        int port = node.contactPoint().getPort();
        Javalin app = serve(args(node, "serving_outage", "--query-timeout", "2s"));
        String q = "/api/v1/views/sales/query?from=2026-11-21&to=2026-11-22";
        try {
            assertEquals(200, get(app, q).statusCode());
            node.close();
            HttpResponse<String> down = get(app, q); // a hang fails it: the request gives up after 30 s
            assertEquals(503, down.statusCode(), down.body());
            assertTrue(down.body().contains("\"unavailable\""), down.body());
            assertEquals("5", down.headers().firstValue("Retry-After").orElse(null));
            assertEquals(503, get(app, "/ready").statusCode());

            node = CassandraNode.start(dir, port, false);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int status = 0;
            while (status != 200 && System.nanoTime() < deadline) {
                status = get(app, q).statusCode();
                Thread.sleep(500);
            }
            assertEquals(200, status, "recovers by itself once Cassandra is back");
        } finally {
            app.stop();
            node.close();
        }
    }
}
