package dev.lambda.common.view;

import dev.lambda.common.time.Granularity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A view (DESIGN §3): which events feed it, what it groups by, its base granularity and metrics.
 * Every layer loads the same definitions; {@link #version()} is a hash of everything that changes
 * the stored numbers, so a changed definition is recomputed under a new version instead of being
 * mixed with rows of the old one.
 */
public record ViewDefinition(String name, List<String> events, List<String> dimensions,
                             Granularity granularity, List<MetricSpec> metrics) implements java.io.Serializable {

    public ViewDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(granularity, "granularity");
        events = List.copyOf(events);
        dimensions = List.copyOf(dimensions);
        metrics = List.copyOf(metrics);
        if (events.isEmpty()) {
            throw new IllegalArgumentException("view " + name + " has no event types");
        }
        if (metrics.isEmpty()) {
            throw new IllegalArgumentException("view " + name + " has no metrics");
        }
    }

    /** Whether events of this type feed the view. */
    public boolean accepts(String eventType) {
        return events.contains(eventType);
    }

    /** The levels the view is stored at: its base granularity and every coarser one. */
    public List<Granularity> levels() {
        return granularity.andCoarser();
    }

    public int metricIndex(String metricName) {
        for (int i = 0; i < metrics.size(); i++) {
            if (metrics.get(i).name().equals(metricName)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A stable 12-hex-digit hash of the definition. The order of event types does not matter;
     * the order of dimensions and metrics does, because stored rows follow it.
     */
    public String version() {
        // asked for on every query and every stored row: the digest is computed once per definition
        return VERSIONS.computeIfAbsent(this, ViewDefinition::computeVersion);
    }

    private static final Map<ViewDefinition, String> VERSIONS = new ConcurrentHashMap<>();

    /** The view's name and version, {@code name/version}: how the speed layer reports the versions it runs. */
    public String versionKey() {
        return name + "/" + version();
    }

    /**
     * The version: a digest of everything in the definition that changes what a stored row means.
     * "v1" stands for how the code computes a row from events (parsing, rounding, folding): a release
     * that changes that for an unchanged definition must raise it, so that no layer merges rows
     * computed the old way with rows computed the new way.
     */
    private String computeVersion() {
        StringBuilder canonical = new StringBuilder("v1|").append(name)
                .append("|events=").append(String.join(",", new TreeSet<>(events)))
                .append("|dims=").append(String.join(",", dimensions))
                .append("|granularity=").append(granularity.id());
        for (MetricSpec m : metrics) {
            canonical.append("|metric=").append(m.name()).append(':').append(m.type().id())
                    .append(':').append(m.field() == null ? "" : m.field()).append(':').append(m.scale());
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
