package dev.lambda.common.view;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lambda.common.time.Granularity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads and validates the views YAML file (DESIGN §3). Every error names its place in the file,
 * e.g. {@code views[1].metrics[0].type: unknown type "avg" (expected count, sum, min, max or distinct)}.
 */
public final class ViewCatalogLoader {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,47}");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,127}");
    private static final Set<String> RESERVED_COLUMNS = Set.of("bucket");
    /** Most dimensions a view may have: that many of the longest attribute values still fit a Cassandra clustering value. */
    public static final int MAX_DIMENSIONS = 10;
    private static final Set<String> VIEW_KEYS = Set.of("name", "events", "dimensions", "granularity", "metrics");
    private static final Set<String> METRIC_KEYS = Set.of("name", "type", "field", "scale");

    /** How Jackson words a key given twice, which names a setting of its own rather than the file's fault. */
    private static final Pattern DUPLICATE_KEY = Pattern.compile("Duplicate field '(.*)' for `ObjectNode`");
    /** A key given twice in one mapping is an error, not the last one silently winning. */
    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    public ViewCatalog load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ViewConfigException("views file " + file + " does not exist");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ViewConfigException("views file " + file + " is not UTF-8 text: save it as UTF-8", e);
        } catch (IOException e) {
            throw new ViewConfigException("cannot read views file " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(text);
        } catch (ViewConfigException e) {
            throw new ViewConfigException(file + ": " + e.getMessage(), e);
        }
    }

    public ViewCatalog parse(String text) {
        JsonNode root;
        try {
            root = yaml.readTree(text);
        } catch (JacksonException e) {
            String at = e.getLocation() == null || e.getLocation().getLineNr() < 1 ? "" : " (line " + e.getLocation().getLineNr() + ")";
            Matcher duplicate = DUPLICATE_KEY.matcher(String.valueOf(e.getOriginalMessage()));
            if (duplicate.lookingAt()) {
                throw new ViewConfigException("key \"" + duplicate.group(1) + "\" given twice in one mapping" + at);
            }
            throw new ViewConfigException("not valid YAML: " + e.getOriginalMessage() + at);
        }
        if (root == null || !root.isObject()) {
            throw new ViewConfigException("expected a mapping with a \"views\" list at the top");
        }
        JsonNode viewsNode = root.get("views");
        if (viewsNode == null || !viewsNode.isArray() || viewsNode.isEmpty()) {
            throw new ViewConfigException("views: expected a non-empty list of views");
        }
        List<ViewDefinition> views = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < viewsNode.size(); i++) {
            ViewDefinition view = view("views[" + i + "]", viewsNode.get(i));
            if (!names.add(view.name())) {
                throw new ViewConfigException("views[" + i + "].name: duplicate view name \"" + view.name() + "\"");
            }
            views.add(view);
        }
        return new ViewCatalog(views);
    }

    private ViewDefinition view(String path, JsonNode node) {
        requireMapping(path, node, VIEW_KEYS);
        String name = requiredText(path + ".name", node.get("name"));
        if (!NAME.matcher(name).matches()) {
            throw error(path + ".name", "\"" + name + "\" must be lower-case letters, digits and _, starting with a letter (at most 48)");
        }
        List<String> events = textList(path + ".events", node.get("events"), false);
        for (int e = 0; e < events.size(); e++) {
            if (events.get(e).contains(",") || events.get(e).contains("|")) { // they separate the parts of the view's version
                throw error(path + ".events[" + e + "]", "\"" + events.get(e) + "\": an event type a view counts may not contain , or |");
            }
        }
        List<String> dimensions = node.has("dimensions") ? textList(path + ".dimensions", node.get("dimensions"), true) : List.of();
        if (dimensions.size() > MAX_DIMENSIONS) {
            // their values together are one Cassandra clustering value (at most 64 KiB; see EnvelopeParser.MAX_ATTR_LENGTH)
            throw error(path + ".dimensions", "at most " + MAX_DIMENSIONS + " dimensions, got " + dimensions.size());
        }
        for (int d = 0; d < dimensions.size(); d++) {
            requireIdentifier(path + ".dimensions[" + d + "]", dimensions.get(d));
            requireNotReserved(path + ".dimensions[" + d + "]", dimensions.get(d));
        }
        String granularityText = requiredText(path + ".granularity", node.get("granularity"));
        Granularity granularity;
        try {
            granularity = Granularity.fromId(granularityText);
        } catch (IllegalArgumentException e) {
            throw error(path + ".granularity", e.getMessage());
        }
        JsonNode metricsNode = node.get("metrics");
        if (metricsNode == null || !metricsNode.isArray() || metricsNode.isEmpty()) {
            throw error(path + ".metrics", "expected a non-empty list of metrics");
        }
        List<MetricSpec> metrics = new ArrayList<>();
        Set<String> columns = new HashSet<>(dimensions);
        for (int m = 0; m < metricsNode.size(); m++) {
            String metricPath = path + ".metrics[" + m + "]";
            MetricSpec metric = metric(metricPath, metricsNode.get(m));
            if (!columns.add(metric.name())) {
                throw error(metricPath + ".name", "\"" + metric.name() + "\" is already a dimension or metric of this view");
            }
            metrics.add(metric);
        }
        return new ViewDefinition(name, events, dimensions, granularity, metrics);
    }

    private MetricSpec metric(String path, JsonNode node) {
        requireMapping(path, node, METRIC_KEYS);
        String name = requiredText(path + ".name", node.get("name"));
        requireIdentifier(path + ".name", name);
        requireNotReserved(path + ".name", name);
        String typeText = requiredText(path + ".type", node.get("type"));
        MetricType type = null;
        for (MetricType t : MetricType.values()) {
            if (t.id().equals(typeText)) {
                type = t;
            }
        }
        if (type == null) {
            throw error(path + ".type", "unknown type \"" + typeText + "\" (expected count, sum, min, max or distinct)");
        }
        String field = null;
        if (type.needsField()) {
            field = requiredText(path + ".field", node.get("field"));
            requireIdentifier(path + ".field", field);
        } else if (node.has("field")) {
            throw error(path + ".field", "a " + type.id() + " metric takes no field");
        }
        int scale = 0;
        JsonNode scaleNode = node.get("scale");
        if (type.isDecimal()) {
            if (scaleNode == null) {
                throw error(path + ".scale", "required for " + type.id() + ": the number of decimal places to keep exactly (0 to " + MetricSpec.MAX_SCALE + ")");
            }
            if (!scaleNode.isInt() || scaleNode.asInt() < 0 || scaleNode.asInt() > MetricSpec.MAX_SCALE) {
                throw error(path + ".scale", "expected a whole number from 0 to " + MetricSpec.MAX_SCALE + ", got " + scaleNode);
            }
            scale = scaleNode.asInt();
        } else if (scaleNode != null) {
            throw error(path + ".scale", "a " + type.id() + " metric takes no scale");
        }
        return new MetricSpec(name, type, field, scale);
    }

    private static void requireMapping(String path, JsonNode node, Set<String> allowedKeys) {
        if (node == null || !node.isObject()) {
            throw error(path, "expected a mapping");
        }
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!allowedKeys.contains(key)) {
                throw error(path + "." + key, "unknown key (expected one of " + String.join(", ", allowedKeys.stream().sorted().toList()) + ")");
            }
        }
    }

    private static String requiredText(String path, JsonNode node) {
        if (node == null || node.isNull()) {
            throw error(path, "required");
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw error(path, "expected a non-empty string, got " + node);
        }
        return node.asText();
    }

    private static List<String> textList(String path, JsonNode node, boolean emptyAllowed) {
        if (node == null || node.isNull()) {
            throw error(path, emptyAllowed && node != null ? "has no value: list them ([] for none) or leave the key out" : "required");
        }
        if (!node.isArray()) {
            throw error(path, "expected a list of strings, got " + node);
        }
        if (node.isEmpty() && !emptyAllowed) {
            throw error(path, "expected at least one entry");
        }
        List<String> values = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String value = requiredText(path + "[" + i + "]", node.get(i));
            if (values.contains(value)) {
                throw error(path + "[" + i + "]", "duplicate entry \"" + value + "\"");
            }
            values.add(value);
        }
        return values;
    }

    private static void requireIdentifier(String path, String value) {
        if (!IDENTIFIER.matcher(value).matches()) {
            throw error(path, "\"" + value + "\" must be letters, digits, _, . or -, starting with a letter or _");
        }
    }

    /** Answers have a column of this name besides the view's dimensions and metrics. */
    private static void requireNotReserved(String path, String name) {
        if (RESERVED_COLUMNS.contains(name)) {
            throw error(path, "\"" + name + "\" is reserved: answers name their time column so");
        }
    }

    private static ViewConfigException error(String path, String message) {
        return new ViewConfigException(path + ": " + message);
    }
}
