package dev.lambda.speed.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpeedConfigTest {

    private static SpeedConfig config(Map<String, String> env, String... args) {
        return SpeedConfig.from(SpeedConfig.flags(args, env));
    }

    @Test
    void slotGraceDefaultsToThirtySecondsOrTheSlotWidthAndComesFromFlagOrEnvironment() {
        assertEquals(Duration.ofSeconds(30), config(Map.of()).topology().slotGrace());
        assertEquals(Duration.ofSeconds(2), config(Map.of(), "--slot-width", "2s").topology().slotGrace(), "never longer than a slot");
        assertEquals(Duration.ofMinutes(2), config(Map.of(), "--slot-grace", "2m").topology().slotGrace());
        assertEquals(Duration.ofSeconds(5), config(Map.of("LAMBDA_SLOT_GRACE", "5s")).topology().slotGrace());
    }

    @Test
    void theMetricsEndpointListensOnEveryAddressUnlessToldOne() {
        assertEquals(null, config(Map.of()).metricsHost(), "every address: Prometheus scrapes from another machine");
        assertEquals("127.0.0.1", config(Map.of(), "--metrics-host", "127.0.0.1").metricsHost());
        assertEquals("10.0.0.5", config(Map.of("LAMBDA_METRICS_HOST", "10.0.0.5")).metricsHost());
        assertTrue(assertThrows(ConfigException.class, () -> config(Map.of(), "--metrics-host", " ")).getMessage().startsWith("--metrics-host"));
    }

    @Test
    void aSlotGraceLongerThanASlotIsRefusedByName() {
        ConfigException e = assertThrows(ConfigException.class, () -> config(Map.of(), "--slot-width", "1m", "--slot-grace", "90s"));
        assertTrue(e.getMessage().contains("--slot-grace") && e.getMessage().contains("PT1M"), e.getMessage());
    }

    @Test
    void settingsThatWouldLoseOrDoubleCountEventsAreRefusedByName() {
        ConfigException ttl = assertThrows(ConfigException.class, () -> config(Map.of(), "--ttl", "1h"));
        assertTrue(ttl.getMessage().startsWith("--ttl must be at least twice --slot-width (PT1H)"), ttl.getMessage());
        assertEquals(Duration.ofHours(2), config(Map.of(), "--ttl", "2h").ttl());
        assertTrue(assertThrows(ConfigException.class, () -> config(Map.of(), "--dlq-topic", "events")).getMessage()
                .startsWith("--dlq-topic must differ from --topic (events)"));
        for (String property : new String[] {"processing.guarantee=at_least_once", "consumer.isolation.level=read_uncommitted"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> config(Map.of(), "--kafka-property", property));
            assertTrue(e.getMessage().startsWith("Kafka property " + property.substring(0, property.indexOf('=')) + " cannot be changed"),
                    e.getMessage());
        }
        assertEquals("5", config(Map.of(), "--kafka-property", "linger.ms=5").streamsProperties().get("linger.ms"));
    }

    /** Dead letters are cut to what the producer sends: its max.request.size, whichever way the properties set it, less the framing. */
    @Test
    void deadLettersFitTheProducersRequestSize() {
        assertEquals(1024 * 1024 - 1024, config(Map.of()).topology().deadLetterMaxBytes(), "Kafka's default");
        assertEquals(2_097_152 - 1024, config(Map.of(), "--kafka-property", "max.request.size=2097152").topology().deadLetterMaxBytes());
        assertEquals(3_000_000 - 1024, config(Map.of(), "--kafka-property", "max.request.size=2097152",
                "--kafka-property", "producer.max.request.size=3000000").topology().deadLetterMaxBytes(), "the producer's own wins");
        assertTrue(assertThrows(ConfigException.class, () -> config(Map.of(), "--kafka-property", "max.request.size=1MB")).getMessage()
                .startsWith("Kafka property max.request.size must be a number of bytes"));
    }

    /** How a secured cluster is reached: a client properties file, with single properties over it, both over the layer's own. */
    @Test
    void kafkaClientPropertiesFromAFileAndFlagsReachTheStreamsConfiguration(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("client.properties"),
                "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nconsumer.max.poll.records=500\n");
        Properties p = config(Map.of(), "--kafka-config", file.toString(), "--kafka-property", "sasl.mechanism=SCRAM-SHA-512")
                .streamsProperties();
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals("SCRAM-SHA-512", p.get("sasl.mechanism"), "a single property wins over the file");
        assertEquals("500", String.valueOf(p.get("consumer.max.poll.records")), "and both over the layer's own settings");
        assertEquals("exactly_once_v2", p.get("processing.guarantee"));
        ConfigException missing = assertThrows(ConfigException.class,
                () -> config(Map.of(), "--kafka-config", dir.resolve("nope.properties").toString()));
        assertTrue(missing.getMessage().startsWith("--kafka-config"), missing.getMessage());
    }
}
