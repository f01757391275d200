package dev.lambda.serving.http;

import dev.lambda.common.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

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

    /** Grants of the hashes in {@code entries} ({@code HASH[=view1,view2]}); errors name {@code flag}. */
    public static ApiKeys parse(List<String> entries, String flag) {
        Map<String, Grant> grants = new LinkedHashMap<>();
        for (String entry : entries) {
            String[] parts = entry.trim().split("=", 2);
            String hash = parts[0].trim().toLowerCase(Locale.ROOT);
            if (!hash.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException(flag + " expects the SHA-256 hex of a key (64 hex digits)"
                        + (flag.equals("--api-key") ? ", optionally =view1,view2" : ""));
            }
            Set<String> views = new LinkedHashSet<>();
            for (String view : parts.length == 1 ? new String[] {"*"} : parts[1].split(",", -1)) {
                if (view.isBlank()) {
                    throw new IllegalArgumentException(flag + " " + hash.substring(0, 8) + "…=" + parts[1]
                            + ": a view name is blank (views are separated by commas, no comma at either end)");
                }
                views.add(view.trim());
            }
            if (grants.put(hash, new Grant(Set.copyOf(views))) != null) {
                throw new IllegalArgumentException(flag + " " + hash.substring(0, 8) + "… is given twice: give it once"
                        + (flag.equals("--api-key") ? ", with every view it may read" : ""));
            }
        }
        return new ApiKeys(grants);
    }

    /**
     * Checks that every view a key is granted is one of {@code defined}: a misspelt name would
     * leave the key a 404 where it was meant to read.
     */
    public void requireDefined(Set<String> defined) {
        byHash.forEach((hash, grant) -> grant.views().stream().filter(v -> !v.equals("*") && !defined.contains(v)).findFirst()
                .ifPresent(view -> {
                    throw new ConfigException("--api-key " + hash.substring(0, 8) + "… grants view \"" + view
                            + "\", which the views file does not define (it has " + new TreeSet<>(defined) + ")");
                }));
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
