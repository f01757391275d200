package dev.lambda.batch.config;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import dev.lambda.common.config.ConfigException;
import java.util.Locale;
import java.util.Map;

/**
 * How the batch writes a generation's rows and the {@code view_state} row that publishes it
 * ({@code --write-consistency}). With the keyspace in several datacenters, {@code EACH_QUORUM}
 * makes every datacenter hold a quorum of the rows before any of them sees the new generation:
 * a serving instance elsewhere that saw it at {@code LOCAL_QUORUM} could otherwise read (and
 * cache, for the generation's life) a partition whose rows had not reached its datacenter yet.
 * The price: while a datacenter is unreachable, runs fail and the previous generation keeps
 * answering.
 */
public enum WriteConsistency {
    /** {@code EACH_QUORUM} if the keyspace is replicated to more than one datacenter, else {@code LOCAL_QUORUM}. */
    AUTO,
    LOCAL_QUORUM,
    EACH_QUORUM;

    public static WriteConsistency parse(String flag) {
        try {
            return valueOf(flag.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--write-consistency must be auto, local_quorum or each_quorum, got " + flag);
        }
    }

    /**
     * The level for a keyspace with {@code replication} as Cassandra reports it: {@code class} and,
     * for {@code NetworkTopologyStrategy}, replicas per datacenter (e.g. {@code "3"}, or {@code "3/1"}
     * with transient replicas).
     */
    public ConsistencyLevel levelFor(Map<String, String> replication) {
        return switch (this) {
            case LOCAL_QUORUM -> DefaultConsistencyLevel.LOCAL_QUORUM;
            case EACH_QUORUM -> DefaultConsistencyLevel.EACH_QUORUM;
            case AUTO -> datacenters(replication) > 1 ? DefaultConsistencyLevel.EACH_QUORUM : DefaultConsistencyLevel.LOCAL_QUORUM;
        };
    }

    /** Datacenters holding replicas (0 for a strategy that does not name them). */
    static long datacenters(Map<String, String> replication) {
        if (!replication.getOrDefault("class", "").endsWith("NetworkTopologyStrategy")) {
            return 0;
        }
        return replication.entrySet().stream()
                .filter(e -> !e.getKey().equals("class"))
                .filter(e -> Integer.parseInt(e.getValue().split("/")[0].trim()) > 0)
                .count();
    }
}
