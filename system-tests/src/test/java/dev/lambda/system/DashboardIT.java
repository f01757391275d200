package dev.lambda.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lambda.batch.config.BatchConfig;
import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.serving.config.ServingConfig;
import dev.lambda.serving.http.ApiKeys;
import dev.lambda.speed.SpeedLayer;
import dev.lambda.speed.config.SpeedConfig;
import io.javalin.Javalin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard at {@code /} in real headless Chromium against the real serving layer, with real data
 * from the speed layer (Kafka Streams) and a batch run (local Spark) on real Kafka and Cassandra, API
 * keys on: the key is asked for once, the chart draws a series per group, changing the group-by
 * changes the series, the batch cutoff is marked, the freshness badge moves when new events arrive,
 * the status panel lists every view, and the page fits a phone. Screenshots go to
 * {@code target/dashboard/}.
 */
@ExtendWith(LocalClusterExtension.class)
class DashboardIT {

    private static final ViewCatalog VIEWS = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
    private static final String TOPIC = "dashboard_events";
    private static final String KEYSPACE = "dashboard";
    private static final String API_KEY = "dashboard-test-key";
    private static final Path SCREENSHOTS = Path.of("target", "dashboard");

    private LocalCluster cluster;
    private SpeedLayer speed;
    private WebDriver browser;

    @Test
    void theDashboardShowsLiveSeriesPerGroupTheCutoffAndFreshness(LocalCluster cluster, @TempDir Path dir) throws Exception {
        this.cluster = cluster;
        ChromeDriverService service = chromeDriverService();
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(TOPIC, LocalClusterExtension.TEST_EVENT_PARTITIONS, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime")), new NewTopic("dashboard_dlq", 1, (short) 1)));
        }
        TestStream stream = new TestStream(11);
        speed = SpeedLayer.start(SpeedConfig.from(SpeedConfig.flags(args("--bootstrap", cluster.bootstrapServers(), "--topic", TOPIC,
                "--dlq-topic", "dashboard_dlq", "--application-id", "dashboard-speed", "--slot-width", "2s",
                "--state-dir", dir.resolve("speed-state").toString(), "--metrics-port", "0"), Map.of())), VIEWS);
        Javalin api = dev.lambda.serving.Main.start(ServingConfig.from(ServingConfig.flags(args("--host", "127.0.0.1",
                "--api-port", "0", "--api-key", ApiKeys.sha256(API_KEY)), Map.of())), VIEWS);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            send(producer, stream.wave(1500, Instant.now()));
            awaitSpeedCaughtUp();
            Thread.sleep(2100); // let the 2 s slot close so the batch cutoff lies inside the chart's last hour
            dev.lambda.batch.Main.run(BatchConfig.from(BatchConfig.flags(args("run", "--bootstrap", cluster.bootstrapServers(),
                    "--topic", TOPIC, "--master", dir.resolve("master").toString(), "--slot-width", "2s", "--safety-margin", "0s",
                    "--shuffle-partitions", "4", "--spark-master", "local[2]"), Map.of())), VIEWS);
            send(producer, stream.wave(300, Instant.now()));
            awaitSpeedCaughtUp();

            ChromeOptions options = new ChromeOptions().setBinary(chromium().toString())
                    .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800");
            browser = new ChromeDriver(service, options);
            browser.get("http://127.0.0.1:" + api.port() + "/");

            // API keys are on: the page asks once, then keeps the key for the session
            await(browser, () -> browser.findElement(By.id("key-form")).isDisplayed(), "the API key form appears");
            browser.findElement(By.id("api-key")).sendKeys(API_KEY);
            browser.findElement(By.cssSelector("#key-form button")).click();
            await(browser, () -> !browser.findElement(By.id("key-form")).isDisplayed(), "the key form goes away once the key is accepted");

            choose(browser, "view", "pageviews");
            await(browser, () -> series(browser).size() == 1 && !path(browser).isEmpty(), "one series without a group-by");
            assertEquals(List.of("views"), series(browser));

            choose(browser, "group-by", "country");
            await(browser, () -> series(browser).size() > 1, "a series per country after choosing group-by country");
            List<String> countries = series(browser);
            assertTrue(Set.of("NP", "IN", "US", "DE", "BR", "(none)").containsAll(countries), "series are countries: " + countries);
            assertEquals(countries.size(), new HashSet<>(countries).size());
            await(browser, () -> !browser.findElements(By.cssSelector("#chart line.cutoff")).isEmpty(), "the batch cutoff is marked on the chart");
            assertFalse(browser.findElements(By.cssSelector("#rows tbody tr")).isEmpty(), "the table lists rows");
            await(browser, () -> browser.findElements(By.cssSelector("#status tbody tr")).size() == VIEWS.views().size(),
                    "the status panel lists every view");
            await(browser, () -> browser.findElement(By.id("speed-status")).getText().matches("(?s).*dead letters: [a-z_]+ \\d.*"),
                    "the status panel shows the speed layer's dead letters by reason");
            assertEveryControlHasALabel(browser);
            screenshot(browser, "dashboard-1280x800.png");

            // new events arrive: the freshness badge follows without a reload
            String before = browser.findElement(By.id("freshness")).getAttribute("data-speed-through");
            assertFalse(before.isEmpty(), "the badge shows the speed layer's freshness");
            Thread.sleep(1000);
            send(producer, stream.wave(50, Instant.now()));
            awaitSpeedCaughtUp();
            await(browser, () -> {
                String now = browser.findElement(By.id("freshness")).getAttribute("data-speed-through");
                return !now.isEmpty() && Instant.parse(now).isAfter(Instant.parse(before));
            }, "the freshness badge moves on after new events arrive");
            assertTrue(browser.findElement(By.id("freshness")).getText().contains("batch cutoff"));

            // more groups than lines: the top ones over the range are drawn, and the note says how many there are
            for (String country : List.of("FR", "JP", "MX")) {
                String json = "{\"id\":\"extra-" + country + "\",\"type\":\"page_view\",\"ts\":\"" + Instant.now()
                        + "\",\"attrs\":{\"page\":\"/\",\"country\":\"" + country + "\",\"user_id\":\"u1\"}}";
                producer.send(new ProducerRecord<>(TOPIC, country, json.getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
            awaitSpeedCaughtUp();
            await(browser, () -> browser.findElement(By.id("chart-note")).getText().startsWith("Top 6 of 9 groups over the range."),
                    "the note counts every group");
            await(browser, () -> series(browser).size() == 6 && Set.of("NP", "IN", "US", "DE", "BR", "(none)").containsAll(series(browser)),
                    "the six largest groups are drawn");
            await(browser, () -> browser.findElements(By.cssSelector("#rows tbody tr")).stream().map(WebElement::getText)
                    .noneMatch(row -> row.contains("FR") || row.contains("JP") || row.contains("MX")), "only their series were asked for");
            assertTrue(browser.findElement(By.id("rows-caption")).getText().endsWith("rows of the top 6 groups."),
                    browser.findElement(By.id("rows-caption")).getText());

            browser.manage().window().setSize(new Dimension(390, 844));
            // once the page has the phone's width (reading the widths lays it out), it must not scroll sideways
            await(browser, () -> ((Number) ((JavascriptExecutor) browser).executeScript(
                    "return document.documentElement.clientWidth;")).longValue() <= 390, "the page at phone width");
            Object overflow = ((JavascriptExecutor) browser).executeScript(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
            assertTrue(((Number) overflow).longValue() <= 0, "no sideways scrolling at phone width (overflow " + overflow + " px)");
            screenshot(browser, "dashboard-phone.png");
        } finally {
            if (browser != null) {
                browser.quit();
            }
            service.close();
            api.stop();
            speed.close();
        }
    }

    private String[] args(String... extra) {
        return LayerArgs.withCassandra(cluster, KEYSPACE, extra);
    }

    private static void send(KafkaProducer<String, byte[]> producer, List<TestStream.Outgoing> records) throws Exception {
        for (TestStream.Outgoing r : records) {
            producer.send(new ProducerRecord<>(TOPIC, r.key(), r.value()));
        }
        producer.flush();
    }

    private void awaitSpeedCaughtUp() throws Exception {
        SpeedCatchUp.await(cluster, TOPIC, speed, Duration.ofSeconds(60));
    }

    private static void choose(WebDriver browser, String select, String value) {
        browser.findElement(By.cssSelector("#" + select + " option[value='" + value + "']")).click();
    }

    private static List<String> series(WebDriver browser) {
        return browser.findElements(By.cssSelector("#chart path.series")).stream().map(p -> p.getAttribute("data-series")).toList();
    }

    private static String path(WebDriver browser) {
        List<WebElement> paths = browser.findElements(By.cssSelector("#chart path.series"));
        return paths.isEmpty() ? "" : paths.get(0).getAttribute("d");
    }

    private static void assertEveryControlHasALabel(WebDriver browser) {
        Object unlabelled = ((JavascriptExecutor) browser).executeScript(
                "return [...document.querySelectorAll('select, input')].filter(e => !document.querySelector('label[for=\"' + e.id + '\"]'))"
                        + ".map(e => e.id || e.outerHTML);");
        assertEquals(List.of(), unlabelled, "every control has a label");
    }

    private static void await(WebDriver browser, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                // the page re-rendered under us; look again
            }
            Thread.sleep(200);
        }
        Path shot = screenshot(browser, "failure.png");
        fail(what + ": not within 30 s; page error: \"" + browser.findElement(By.id("error")).getText() + "\"; screenshot " + shot);
    }

    private static Path screenshot(WebDriver browser, String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path target = SCREENSHOTS.resolve(name).toAbsolutePath();
            Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path chromium() {
        return executable("CHROME_BIN", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
    }

    private static ChromeDriverService chromeDriverService() {
        Path driver = executable("CHROMEDRIVER", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
        chromium();
        return new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).usingAnyFreePort().build();
    }

    private static Path executable(String env, String... candidates) {
        List<String> places = new ArrayList<>();
        if (System.getenv(env) != null) {
            places.add(System.getenv(env));
        }
        places.addAll(List.of(candidates));
        for (String place : places) {
            if (Files.isExecutable(Path.of(place))) {
                return Path.of(place);
            }
        }
        fail("the browser test needs Chromium and its driver, found neither at " + places + ". Install them with "
                + "`sudo apt-get install -y chromium chromium-driver` (Debian/Ubuntu; .ci/run does this), or point " + env + " at them.");
        return null;
    }
}
