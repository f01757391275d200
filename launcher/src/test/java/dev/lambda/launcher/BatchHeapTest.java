package dev.lambda.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lambda.common.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LAMBDA_BATCH_HEAP goes into -Xmx: a value the JVM would refuse is named by the launcher instead. */
class BatchHeapTest {

    @Test
    void aHeapSizeIsANumberWithAnOptionalUnit() {
        assertEquals("2g", BatchProcess.heap(Map.of()));
        assertEquals("1536m", BatchProcess.heap(Map.of("LAMBDA_BATCH_HEAP", "1536m")));
        for (String bad : new String[] {"2GB", "0", "-1g", "lots", "", "2", "100k"}) {
            assertEquals("LAMBDA_BATCH_HEAP must be a heap size like 2g or 1536m, got \"" + bad + "\"",
                    assertThrows(ConfigException.class, () -> BatchProcess.heap(Map.of("LAMBDA_BATCH_HEAP", bad))).getMessage());
        }
    }
}
