package dev.lambda.batch.store;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.batch.config.CassandraTarget;
import dev.lambda.common.cassandra.CassandraSessions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One Cassandra session per executor JVM and target, opened on first use and closed when the JVM
 * exits: Spark tasks come and go, the session (and its prepared statements) stays.
 */
public final class ExecutorSessions {

    private static final Map<CassandraTarget, CqlSession> SESSIONS = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> SESSIONS.values().forEach(CqlSession::close), "close-cassandra"));
    }

    private ExecutorSessions() {
    }

    /** Closes every session of this JVM (in-process runs call it when the run ends). */
    public static void closeAll() {
        SESSIONS.values().forEach(CqlSession::close);
        SESSIONS.clear();
    }

    static CqlSession get(CassandraTarget target) {
        return SESSIONS.computeIfAbsent(target, t -> CassandraSessions.open(t.settings()));
    }
}
