package dev.lambda.common.cassandra;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The keyspace's replication: {@code simple:1} (one local node) or
 * {@code dc1:3,dc2:3} (NetworkTopologyStrategy, production).
 */
public record Replication(String strategy, Map<String, Integer> factors) {

    private static final Pattern DC = Pattern.compile("[A-Za-z0-9_.-]+");

    public Replication {
        factors = Map.copyOf(factors);
        if (!strategy.equals("SimpleStrategy") && !strategy.equals("NetworkTopologyStrategy")) {
            throw new IllegalArgumentException("unknown replication strategy " + strategy);
        }
        factors.forEach((dc, rf) -> {
            if (!DC.matcher(dc).matches() || rf < 1) {
                throw new IllegalArgumentException("bad replication factor " + dc + ":" + rf);
            }
        });
    }

    public static Replication simple(int factor) {
        return new Replication("SimpleStrategy", Map.of("replication_factor", factor));
    }

    /** Parses {@code simple:N} or {@code dc:N[,dc:N...]}. */
    public static Replication parse(String text) {
        Map<String, Integer> factors = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String[] kv = part.trim().split(":");
            if (kv.length != 2) {
                throw new IllegalArgumentException("replication \"" + text + "\": expected simple:N or dc:N[,dc:N]");
            }
            int rf;
            try {
                rf = Integer.parseInt(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("replication \"" + text + "\": " + kv[1] + " is not a number");
            }
            factors.put(kv[0].trim(), rf);
        }
        if (factors.size() == 1 && factors.containsKey("simple")) {
            return simple(factors.get("simple"));
        }
        return new Replication("NetworkTopologyStrategy", factors);
    }

    String toCql() {
        return "{'class': '" + strategy + "', " + factors.entrySet().stream()
                .map(e -> "'" + e.getKey() + "': " + e.getValue())
                .collect(Collectors.joining(", ")) + "}";
    }
}
