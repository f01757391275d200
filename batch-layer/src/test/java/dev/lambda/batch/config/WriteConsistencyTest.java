package dev.lambda.batch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.common.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WriteConsistencyTest {

    private static final String NTS = "org.apache.cassandra.locator.NetworkTopologyStrategy";

    @Test
    void autoWaitsForEveryDatacenterOnlyWhenTheKeyspaceSpansSeveral() {
        assertEquals(DefaultConsistencyLevel.EACH_QUORUM, WriteConsistency.AUTO.levelFor(Map.of("class", NTS, "dc1", "3", "dc2", "3")));
        assertEquals(DefaultConsistencyLevel.LOCAL_QUORUM, WriteConsistency.AUTO.levelFor(Map.of("class", NTS, "dc1", "3")));
        assertEquals(DefaultConsistencyLevel.LOCAL_QUORUM, WriteConsistency.AUTO.levelFor(Map.of("class", NTS, "dc1", "3", "dc2", "0")),
                "a datacenter without replicas does not count");
        assertEquals(DefaultConsistencyLevel.EACH_QUORUM, WriteConsistency.AUTO.levelFor(Map.of("class", NTS, "dc1", "3/1", "dc2", "2")),
                "transient replicas");
        assertEquals(DefaultConsistencyLevel.LOCAL_QUORUM,
                WriteConsistency.AUTO.levelFor(Map.of("class", "org.apache.cassandra.locator.SimpleStrategy", "replication_factor", "3")));
    }

    @Test
    void anExplicitLevelIsTakenAsItIs() {
        assertEquals(DefaultConsistencyLevel.EACH_QUORUM, WriteConsistency.parse("each_quorum").levelFor(Map.of("class", NTS, "dc1", "1")));
        assertEquals(DefaultConsistencyLevel.LOCAL_QUORUM,
                WriteConsistency.parse("LOCAL-QUORUM").levelFor(Map.of("class", NTS, "dc1", "3", "dc2", "3")));
        ConfigException e = assertThrows(ConfigException.class, () -> WriteConsistency.parse("quorum"));
        assertTrue(e.getMessage().contains("--write-consistency"), e.getMessage());
    }
}
