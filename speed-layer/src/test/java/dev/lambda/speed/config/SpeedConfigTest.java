package dev.lambda.speed.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
