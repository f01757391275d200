package dev.lambda.serving.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Optional API keys: the server knows only SHA-256 hashes of the keys, each allowed every view or a
 * list of views. Configured as {@code HASH} (all views) or {@code HASH=view1,view2}. With no keys
 * configured, the API is open.
 */
public final class ApiKeys {

    /** What a key may read. */
    public record Grant(Set<String> views) {
        public boolean allows(String view) {
            return views.contains("*") || views.contains(view);
        }
    }

    private final Map<String, Grant> byHash;

    public ApiKeys(Map<String, Grant> byHash) {
        this.byHash = Map.copyOf(byHash);
    }

    public static ApiKeys parse(List<String> entries) {
        Map<String, Grant> grants = new LinkedHashMap<>();
        for (String entry : entries) {
            String[] parts = entry.trim().split("=", 2);
            String hash = parts[0].trim().toLowerCase(java.util.Locale.ROOT);
            if (!hash.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("--api-key expects the SHA-256 hex of a key (64 hex digits), optionally =view1,view2");
            }
            grants.put(hash, new Grant(parts.length == 1 ? Set.of("*") : Set.of(parts[1].split(","))));
        }
        return new ApiKeys(grants);
    }

    public boolean enabled() {
        return !byHash.isEmpty();
    }

    /** The grant of a presented key, if it is known. */
    public Optional<Grant> grantFor(String key) {
        return Optional.ofNullable(byHash.get(sha256(key)));
    }

    public static String sha256(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
