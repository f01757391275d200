package dev.lambda.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The generator's shares of duplicates, late and malformed records: a number from 0 to 0.5, NaN refused like any other. */
class GenerateFractionTest {

    private static double duplicates(String text) {
        return GenerateCommand.fraction(Flags.parse(new String[] {"--duplicates", text}, Map.of(), Set.of("duplicates"), Set.of()),
                "duplicates", 0.01);
    }

    @Test
    void aShareOutsideZeroToAHalfIsRefusedByName() {
        assertEquals(0.25, duplicates("0.25"));
        assertEquals(0.0, duplicates("0"));
        for (String bad : new String[] {"NaN", "0.6", "-0.1", "Infinity"}) {
            assertEquals("--duplicates must lie between 0 and 0.5, got " + bad, assertThrows(ConfigException.class, () -> duplicates(bad)).getMessage());
        }
        assertEquals("--duplicates: \"lots\" is not a number like 0.01", assertThrows(ConfigException.class, () -> duplicates("lots")).getMessage());
    }
}
