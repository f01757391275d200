package dev.lambda.serving.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import dev.lambda.serving.http.ApiKeys;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The metrics key: its own setting, named in every error. */
class ServingConfigTest {

    private static ServingConfig from(String... args) {
        return ServingConfig.from(ServingConfig.flags(args, Map.of()));
    }

    /** Zero is "off" for the caches' settings; for these it would fail every query, or flag every batch. */
    @Test
    void aQueryTimeoutOrBatchOverdueOfZeroIsRefusedByName() {
        assertTrue(assertThrows(ConfigException.class, () -> from("--query-timeout", "0")).getMessage()
                .startsWith("--query-timeout must be at least 1ms"));
        assertTrue(assertThrows(ConfigException.class, () -> from("--batch-overdue", "0s")).getMessage()
                .startsWith("--batch-overdue must be at least 1ms"));
        assertEquals(java.time.Duration.ZERO, from("--speed-poll", "0").speedPoll(), "0 = no answer cache, as documented");
    }

    @Test
    void aMetricsKeyIsAskedForOnlyWhenGiven() {
        assertFalse(from().metricsKeys().enabled(), "open by default");
        ServingConfig c = from("--metrics-key", ApiKeys.sha256("scraper"));
        assertTrue(c.metricsKeys().grantFor("scraper").isPresent());
        assertFalse(c.apiKeys().enabled(), "the API's keys are their own setting");
        assertTrue(ServingConfig.from(ServingConfig.flags(new String[0], Map.of("LAMBDA_METRICS_KEY", ApiKeys.sha256("scraper"))))
                .metricsKeys().grantFor("scraper").isPresent(), "from the environment too");
    }

    @Test
    void anApiKeysViewsAreTrimmedAndEachMustBeAViewTheFileDefines() {
        String hash = ApiKeys.sha256("analyst");
        ApiKeys keys = from("--api-key", hash + "=sales, pageviews").apiKeys();
        assertTrue(keys.grantFor("analyst").orElseThrow().allows("pageviews"), "a space after the comma is not part of the name");
        keys.requireDefined(Set.of("sales", "pageviews", "activity"));
        ConfigException typo = assertThrows(ConfigException.class, () -> from("--api-key", hash + "=pageveiws").apiKeys()
                .requireDefined(Set.of("sales", "pageviews")));
        assertEquals("--api-key " + hash.substring(0, 8) + "… grants view \"pageveiws\", which the views file does not define (it has"
                + " [pageviews, sales])", typo.getMessage());
        from("--api-key", hash).apiKeys().requireDefined(Set.of("sales")); // every view
        assertTrue(assertThrows(ConfigException.class, () -> from("--api-key", hash + "=")).getMessage().contains("a view name is blank"));
        assertTrue(assertThrows(ConfigException.class, () -> from("--api-key", hash + "=sales,")).getMessage().contains("a view name is blank"));
        assertTrue(assertThrows(ConfigException.class, () -> from("--api-key", hash + "=sales", "--api-key", hash + "=pageviews"))
                .getMessage().endsWith("is given twice: give it once, with every view it may read"));
    }

    @Test
    void aBadMetricsKeyIsNamed() {
        ConfigException notHex = assertThrows(ConfigException.class, () -> from("--metrics-key", "scraper"));
        assertEquals("--metrics-key expects the SHA-256 hex of a key (64 hex digits)", notHex.getMessage());
        ConfigException withViews = assertThrows(ConfigException.class, () -> from("--metrics-key", ApiKeys.sha256("s") + "=sales"));
        assertEquals("--metrics-key takes the SHA-256 hex of a key, without views: /metrics names them all", withViews.getMessage());
        String hash = ApiKeys.sha256("s");
        assertEquals("--metrics-key " + hash.substring(0, 8) + "… is given twice: give it once", assertThrows(ConfigException.class,
                () -> from("--metrics-key", hash, "--metrics-key", hash)).getMessage());
    }

    @Test
    void corsOriginsAreTrimmedAndNoneIsEmpty() {
        assertEquals(List.of("https://a.example", "https://b.example"),
                from("--cors-origins", "https://a.example, https://b.example").corsOrigins());
        assertEquals(List.of(), from().corsOrigins());
        assertTrue(assertThrows(ConfigException.class, () -> from("--cors-origins", "https://a.example,")).getMessage()
                .startsWith("--cors-origins has an empty origin"));
        assertThrows(ConfigException.class, () -> ServingConfig.from(ServingConfig.flags(new String[0], Map.of("LAMBDA_API_KEY", ""))),
                "a blank key list from the environment is refused, not an open API");
    }
}
