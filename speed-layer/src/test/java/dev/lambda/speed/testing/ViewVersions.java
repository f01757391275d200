package dev.lambda.speed.testing;

import dev.lambda.common.view.ViewCatalog;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** The view versions a partition's progress reports, as tests expect them. */
public final class ViewVersions {

    private ViewVersions() {
    }

    /** Every view version of {@code views}, run since the partition's first offset, but for those given. */
    public static Map<String, Instant> since(ViewCatalog views, Map<String, Instant> others) {
        Map<String, Instant> versions = all(views, Instant.EPOCH);
        versions.putAll(others);
        return versions;
    }

    /** Every view version of {@code views}, each with the time {@code since}. */
    public static Map<String, Instant> all(ViewCatalog views, Instant since) {
        Map<String, Instant> versions = new HashMap<>();
        views.views().forEach(v -> versions.put(v.versionKey(), since));
        return versions;
    }
}
