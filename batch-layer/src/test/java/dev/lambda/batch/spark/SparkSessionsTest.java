package dev.lambda.batch.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lambda.batch.config.BatchConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who sets the shuffle's partitions: the flag when given, else spark-submit's {@code --conf}, else the default. */
class SparkSessionsTest {

    private static int flag(String... args) {
        return BatchConfig.from(BatchConfig.flags(args, Map.of())).shufflePartitions();
    }

    @Test
    void theFlagWinsAndOtherwiseSparkSubmitsConfStands() {
        assertEquals(64, SparkSessions.shufflePartitions(flag("recompute", "--shuffle-partitions", "64"), true));
        assertEquals(64, SparkSessions.shufflePartitions(flag("recompute", "--shuffle-partitions", "64"), false));
        assertEquals(0, SparkSessions.shufflePartitions(flag("recompute"), true), "spark-submit's --conf is left as it is");
        assertEquals(8, SparkSessions.shufflePartitions(flag("recompute"), false));
    }
}
