package dev.lambda.common.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.common.time.Granularity;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ViewCatalogLoaderTest {

    private final ViewCatalogLoader loader = new ViewCatalogLoader();

    @Test
    void theCheckedInDemoViewsLoad() {
        ViewCatalog catalog = loader.load(Path.of("..", "config", "views.yml"));
        ViewDefinition sales = catalog.find("sales").orElseThrow();
        assertEquals(List.of("purchase"), sales.events());
        assertEquals(List.of("product", "country"), sales.dimensions());
        assertEquals(Granularity.MINUTE, sales.granularity());
        MetricSpec revenue = sales.metrics().get(sales.metricIndex("revenue"));
        assertEquals(new MetricSpec("revenue", MetricType.SUM, "amount", 2), revenue);
        assertEquals(List.of("sales", "activity"), catalog.viewsFor("purchase").stream().map(ViewDefinition::name).toList());
        assertEquals(List.of(Granularity.HOUR, Granularity.DAY), catalog.find("activity").orElseThrow().levels());
    }

    @Test
    void versionIsStableAndChangesWithTheDefinition() {
        String base = """
                views:
                  - name: v
                    events: [a, b]
                    dimensions: [x]
                    granularity: minute
                    metrics: [{name: n, type: count}]
                """;
        String version = loader.parse(base).views().get(0).version();
        assertEquals(12, version.length());
        assertEquals(version, loader.parse(base).views().get(0).version());
        assertEquals(version, loader.parse(base.replace("[a, b]", "[b, a]")).views().get(0).version(), "event order is irrelevant");
        assertNotEquals(version, loader.parse(base.replace("minute", "hour")).views().get(0).version());
        assertNotEquals(version, loader.parse(base.replace("[x]", "[x, y]")).views().get(0).version());
        assertNotEquals(version, loader.parse(base.replace("name: n", "name: m")).views().get(0).version());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            type: count|type: avg              | views[0].metrics[0].type: unknown type "avg" (expected count, sum, min, max or distinct)
            type: count|type: sum, field: amt  | views[0].metrics[0].scale: required for sum
            type: count|type: count, field: a  | views[0].metrics[0].field: a count metric takes no field
            type: count|type: distinct         | views[0].metrics[0].field: required
            type: count|type: max, field: a, scale: 40 | views[0].metrics[0].scale: expected a whole number from 0 to 18, got 40
            granularity: minute|granularity: week | views[0].granularity: unknown granularity "week"
            granularity: minute|granularity: minute, colour: red | views[0].colour: unknown key
            'events: [a]'|'events: []'           | views[0].events: expected at least one entry
            name: n|name: x                      | views[0].metrics[0].name: "x" is already a dimension or metric of this view
            name: n|name: bucket                 | views[0].metrics[0].name: "bucket" is reserved
            'dimensions: [x]'|'dimensions: [bucket]' | views[0].dimensions[0]: "bucket" is reserved
            'events: [a]'|'events: [a, "b,c"]'   | 'views[0].events[1]: "b,c": an event type a view counts may not contain , or |'
            'events: [a]'|'events: ["a|b"]'      | 'views[0].events[0]: "a|b": an event type'
            name: v|name: Bad-Name               | views[0].name: "Bad-Name" must be lower-case letters
            'dimensions: [x]'|'dimensions: [a, b, c, d, e, f, g, h, i, j, k]' | views[0].dimensions: at most 10 dimensions, got 11
            'dimensions: [x]'|'dimensions: null' | views[0].dimensions: has no value: list them ([] for none) or leave the key out
            'events: [a]'|'events: null'         | views[0].events: required
            """)
    void errorsNameTheViewAndField(String from, String to, String message) {
        String yaml = """
                views:
                  - {name: v, events: [a], dimensions: [x], granularity: minute, metrics: [{name: n, type: count}]}
                """.replace(from, to);
        ViewConfigException e = assertThrows(ViewConfigException.class, () -> loader.parse(yaml));
        assertTrue(e.getMessage().startsWith(message.strip()), e.getMessage());
    }

    @Test
    void duplicateViewsAndBrokenYamlAreRefused() {
        String one = "  - {name: v, events: [a], granularity: hour, metrics: [{name: n, type: count}]}\n";
        assertEquals("views[1].name: duplicate view name \"v\"",
                assertThrows(ViewConfigException.class, () -> loader.parse("views:\n" + one + one)).getMessage());
        assertTrue(assertThrows(ViewConfigException.class, () -> loader.parse("views: [ {")).getMessage().startsWith("not valid YAML"));
        String twice = "views:\n  - name: v\n    events: [a]\n    granularity: hour\n    granularity: minute\n"
                + "    metrics: [{name: n, type: count}]\n";
        String message = assertThrows(ViewConfigException.class, () -> loader.parse(twice)).getMessage();
        assertEquals("key \"granularity\" given twice in one mapping (line 5)", message);
        assertEquals("views: expected a non-empty list of views",
                assertThrows(ViewConfigException.class, () -> loader.parse("views: []")).getMessage());
        assertTrue(assertThrows(ViewConfigException.class, () -> loader.load(Path.of("no-such.yml"))).getMessage().contains("does not exist"));
    }

    @Test
    void aFileNotInUtf8IsSaidToBeSo(@org.junit.jupiter.api.io.TempDir Path dir) throws java.io.IOException {
        Path latin1 = dir.resolve("views.yml");
        java.nio.file.Files.write(latin1, "views:\n  - {name: v, events: [caf\u00e9], granularity: hour, metrics: [{name: n, type: count}]}\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertEquals("views file " + latin1 + " is not UTF-8 text: save it as UTF-8",
                assertThrows(ViewConfigException.class, () -> loader.load(latin1)).getMessage());
    }
}
