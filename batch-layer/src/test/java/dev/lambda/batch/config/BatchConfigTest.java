package dev.lambda.batch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The batch layer's flags that the recompute's safety depends on. */
class BatchConfigTest {

    private static BatchConfig recompute(String... extra) {
        String[] args = new String[extra.length + 1];
        args[0] = "recompute";
        System.arraycopy(extra, 0, args, 1, extra.length);
        return BatchConfig.from(BatchConfig.flags(args, Map.of()));
    }

    @Test
    void graceIsAnHourUnlessGiven() {
        assertEquals(Duration.ofHours(1), recompute().grace());
        assertEquals(Duration.ZERO, recompute("--grace", "0s").grace());
        assertEquals(Duration.ofSeconds(1), recompute("--grace", "1s").grace());
    }

    /** A setting left in an environment must not accept lost records on every later run. */
    @Test
    void acceptingAGapIsForTheCommandLineOnly() {
        Map<String, String> env = Map.of("LAMBDA_ACCEPT_GAP", "true");
        assertFalse(BatchConfig.from(BatchConfig.flags(new String[] {"ingest"}, env)).acceptGap());
        assertTrue(BatchConfig.from(BatchConfig.flags(new String[] {"ingest", "--accept-gap"}, Map.of())).acceptGap());
    }

    /** A flag a command does not use would otherwise be taken without a word, as if it had done something. */
    @Test
    void aFlagOfAnotherCommandIsRefusedOnTheCommandLineButNotFromTheEnvironment() {
        assertEquals("--cutoff is for recompute and run, not ingest", assertThrows(ConfigException.class,
                () -> BatchConfig.from(BatchConfig.flags(new String[] {"ingest", "--cutoff", "2026-11-21T00:00:00Z"}, Map.of()))).getMessage());
        assertEquals("--input is for import, not run", assertThrows(ConfigException.class,
                () -> BatchConfig.from(BatchConfig.flags(new String[] {"run", "--input", "x.json"}, Map.of()))).getMessage());
        assertEquals("--accept-gap is for ingest and run, not recompute", assertThrows(ConfigException.class,
                () -> recompute("--accept-gap")).getMessage());
        assertEquals("--format is for import, not recompute", assertThrows(ConfigException.class,
                () -> recompute("--format", "json")).getMessage());
        assertEquals("2026-11-21T00:00:00Z", recompute("--cutoff", "2026-11-21T00:00:00Z").cutoff().toString());
        assertEquals("json", BatchConfig.from(BatchConfig.flags(new String[] {"ingest"}, Map.of("LAMBDA_FORMAT", "csv", "LAMBDA_VIEWS", "",
                "LAMBDA_CUTOFF", "soon", "LAMBDA_INPUT", ""))).importFormat(),
                "a schedule's environment holds settings for every command it runs: a command reads only its own");
        assertEquals("parquet", BatchConfig.from(BatchConfig.flags(new String[] {"import"}, Map.of("LAMBDA_FORMAT", "parquet",
                "LAMBDA_INPUT", "x.parquet"))).importFormat());
        assertFalse(recompute("--accept-gap=false").acceptGap(), "a switch set off is not one given to the wrong command");
    }

    @Test
    void aGraceTooShortToRenewARecordInIsRefusedByName() {
        assertEquals("--grace must not be negative, got PT-1S",
                assertThrows(ConfigException.class, () -> recompute("--grace", "PT-1S")).getMessage());
        ConfigException e = assertThrows(ConfigException.class, () -> recompute("--grace", "500ms"));
        assertTrue(e.getMessage().startsWith("--grace must be 0s or at least 1s"), e.getMessage());
        assertEquals("--safety-margin must not be negative, got -PT5M",
                assertThrows(ConfigException.class, () -> recompute("--safety-margin", "-PT5M")).getMessage());
    }
}
