package dev.lambda.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import dev.lambda.launcher.DemoCommand.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoSettingsTest {

    private static final Path VIEWS = Path.of("../config/views.yml");

    private static Settings settings(String... args) {
        return Settings.from(DemoCommand.flags(args, Map.of()), VIEWS);
    }

    private static String refused(String... args) {
        return assertThrows(ConfigException.class, () -> settings(args)).getMessage();
    }

    @Test
    void theDefaultsAreTheOnesTheHelpNames() {
        Settings s = settings();
        assertEquals(VIEWS.toAbsolutePath(), s.views());
        assertEquals(Duration.ofMinutes(1), s.slot());
        assertEquals(Optional.of(Duration.ofMinutes(2)), s.batchEvery());
        assertEquals(200, s.rate());
        assertEquals(9092, s.kafkaPort());
        assertEquals(9042, s.cassandraPort());
        assertEquals(7070, s.apiPort());
        assertEquals(Path.of("data").toAbsolutePath(), s.data());
        assertEquals(Optional.empty(), settings("--batch-every", "off").batchEvery());
        assertEquals(0, settings("--no-generator").rate());
    }

    @Test
    void aBadBatchIntervalIsNamedBeforeAnythingStarts() {
        assertTrue(refused("--batch-every", "0s").startsWith("--batch-every"), "zero would fail the scheduler");
        assertTrue(refused("--batch-every", "2x").startsWith("--batch-every"));
        assertTrue(refused("--batch-every", "-PT1M").startsWith("--batch-every"));
        assertTrue(refused("--batch-every", "PT0.0005S").startsWith("--batch-every"), "under a millisecond is zero to the scheduler");
    }

    @Test
    void portsThatClashAreNamedBeforeAnythingStarts() {
        assertTrue(refused("--api-port", "9092").contains("must differ"));
        assertTrue(refused("--kafka-port", "7000", "--cassandra-port", "7000").contains("must differ"));
    }

    @Test
    void aSlotWidthTheLayersRefuseIsNamedAsTheDemosFlag() {
        String message = refused("--slot", "7s");
        assertTrue(message.startsWith("--slot:") && message.contains("divide a day"), message);
    }

    @Test
    void aViewsFileTheLayersCannotLoadIsNamedBeforeAnythingStarts(@TempDir Path dir) throws IOException {
        Path broken = Files.writeString(dir.resolve("views.yml"), "views:\n  - name: sales\n    events: [purchase]\n    metrics: nope\n");
        String message = refused("--views", broken.toString());
        assertTrue(message.startsWith("--views:"), message);
        assertTrue(refused("--views", dir.resolve("missing.yml").toString()).contains("is not a file"));
    }

    @Test
    void aValueWithoutItsFlagIsRefused() {
        assertTrue(refused("--rate", "500", "1000").contains("\"1000\""));
    }
}
