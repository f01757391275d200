package dev.lambda.serving.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import dev.lambda.serving.http.ApiKeys;
import java.util.Map;
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
    void aBadMetricsKeyIsNamed() {
        ConfigException notHex = assertThrows(ConfigException.class, () -> from("--metrics-key", "scraper"));
        assertEquals("--metrics-key expects the SHA-256 hex of a key (64 hex digits)", notHex.getMessage());
        ConfigException withViews = assertThrows(ConfigException.class, () -> from("--metrics-key", ApiKeys.sha256("s") + "=sales"));
        assertEquals("--metrics-key takes the SHA-256 hex of a key, without views: /metrics names them all", withViews.getMessage());
    }
}
