package dev.lambda.serving.config;

import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.config.KafkaClientSettings;
import dev.lambda.serving.http.ApiKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Everything the serving layer is configured with, from flags and {@code LAMBDA_*} environment variables. */
public record ServingConfig(String host, int port, CassandraSettings cassandra, Path viewsFile, ApiKeys apiKeys,
                            ApiKeys metricsKeys, List<String> corsOrigins, Duration queryTimeout, long maxBuckets, long maxReadBuckets,
                            Duration batchOverdue, long batchCacheRows, long queryCacheAggregates, Duration stateTtl,
                            int answerCacheEntries, long answerCacheRows, Duration speedPoll) {

    public static final String HELP = """
            Usage: serving-layer [options]

            Serves the views over HTTP: merges the published batch generation with the speed rows after its
            cutoff. API at /api/v1, description at /openapi.json and /docs, metrics at /metrics.
            Every option can also be given as an environment variable: --api-port -> LAMBDA_API_PORT.

              --host ADDRESS               listen address                                 [0.0.0.0]
              --api-port N                 listen port                                    [7070]
            %1$s\
              --views FILE                 views definition file                          [config/views.yml]
              --api-key HASH[=VIEWS]       SHA-256 hex of an accepted key, optionally limited to
                                           views (view1,view2); repeatable; none = open API [none]
              --metrics-key HASH           SHA-256 hex of a key /metrics asks for (it names
                                           every view); repeatable; none = open /metrics  [none]
              --cors-origins LIST          browser origins allowed (comma list, * = any)  [none]
              --query-timeout DURATION     give up on a query after                       [5s]
              --max-buckets N              most output buckets per query                  [10000]
              --max-read-buckets N         most stored buckets a query may read           [200000]
              --batch-overdue DURATION     /status and /metrics flag a batch cutoff older
                                           than this, or than half the shortest speed-row
                                           TTL if that is less                            [36h]
              --batch-cache-rows N         batch rows kept in memory (published generations
                                           never change, so they are cached)              [2000000]
              --query-cache-aggregates N   rolled-up batch sides of recent queries kept,
                                           in aggregates (0 = off)                        [50000]
              --state-ttl DURATION         how long a published generation is reused before
                                           asking Cassandra again (0 = every query)       [1s]
              --answer-cache-entries N     recent answers kept while neither the generation
                                           nor the speed layer's progress changes (0 = off) [10000]
              --answer-cache-rows N        the most rows those answers hold together (a
                                           bound on their memory)                         [1000000]
              --speed-poll DURATION        how often the speed layer's progress is checked;
                                           a cached answer lags a speed flush by two of
                                           these plus 0.5s at most (0 = no answer cache)   [200ms]
              --help                       show this help
            """.formatted(CassandraSettings.FLAG_HELP, KafkaClientSettings.FLAG_HELP);

    /** Every flag the serving layer takes (each also as a {@code LAMBDA_*} environment variable). */
    public static Set<String> knownFlags() {
        Set<String> known = new HashSet<>(List.of("host", "api-port", "views", "api-key", "metrics-key", "cors-origins", "query-timeout",
                "max-buckets", "max-read-buckets", "batch-overdue", "batch-cache-rows", "query-cache-aggregates", "state-ttl",
                "answer-cache-entries", "answer-cache-rows", "speed-poll"));
        known.addAll(CassandraSettings.FLAGS);
        return known;
    }

    public static Flags flags(String[] args, Map<String, String> env) {
        return Flags.parse(args, env, knownFlags(), Set.of("help"));
    }

    /** The origins of a comma list, each trimmed ({@code https://a.com, https://b.com} means both); none blank. */
    static List<String> corsOrigins(String list) {
        if (list.isEmpty()) {
            return List.of();
        }
        List<String> origins = Arrays.stream(list.split(",", -1)).map(String::trim).toList();
        if (origins.contains("")) {
            throw new ConfigException("--cors-origins has an empty origin in \"" + list + "\": list origins separated by commas");
        }
        return origins;
    }

    public static ServingConfig from(Flags f) {
        ApiKeys keys;
        ApiKeys metricsKeys;
        try {
            keys = ApiKeys.parse(f.strings("api-key"), "--api-key");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        List<String> metricsHashes = f.strings("metrics-key");
        if (metricsHashes.stream().anyMatch(h -> h.contains("="))) {
            throw new ConfigException("--metrics-key takes the SHA-256 hex of a key, without views: /metrics names them all");
        }
        try {
            metricsKeys = ApiKeys.parse(metricsHashes, "--metrics-key");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        String cors = f.string("cors-origins", "");
        Duration queryTimeout = f.duration("query-timeout", Duration.ofSeconds(5));
        Duration batchOverdue = f.duration("batch-overdue", Duration.ofHours(36));
        if (queryTimeout.toMillis() < 1 || batchOverdue.toMillis() < 1) {
            throw new ConfigException((queryTimeout.toMillis() < 1 ? "--query-timeout" : "--batch-overdue") + " must be at least 1ms, got "
                    + (queryTimeout.toMillis() < 1 ? queryTimeout : batchOverdue) + " (there is no \"off\" for it)");
        }
        return new ServingConfig(f.string("host", "0.0.0.0"), f.integer("api-port", 7070, 0, 65535), CassandraSettings.from(f),
                Path.of(f.string("views", "config/views.yml")), keys, metricsKeys,
                corsOrigins(cors), queryTimeout,
                f.integer("max-buckets", 10_000, 1, Integer.MAX_VALUE), f.integer("max-read-buckets", 200_000, 1, Integer.MAX_VALUE),
                batchOverdue, f.integer("batch-cache-rows", 2_000_000, 0, Integer.MAX_VALUE),
                f.integer("query-cache-aggregates", 50_000, 0, Integer.MAX_VALUE), f.duration("state-ttl", Duration.ofSeconds(1)),
                f.integer("answer-cache-entries", 10_000, 0, Integer.MAX_VALUE),
                f.integer("answer-cache-rows", 1_000_000, 1, Integer.MAX_VALUE),
                f.duration("speed-poll", Duration.ofMillis(200)));
    }
}
