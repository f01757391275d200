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
}
