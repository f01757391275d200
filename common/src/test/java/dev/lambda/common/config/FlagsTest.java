package dev.lambda.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FlagsTest {

    private static final Set<String> KNOWN = Set.of("port", "slot", "kafka-property", "views");

    @Test
    void flagsBeatEnvironmentWhichBeatsDefaults() {
        Flags f = Flags.parseWithArguments(new String[] {"--port", "9000", "--slot=5m", "run"},
                Map.of("LAMBDA_PORT", "1", "LAMBDA_VIEWS", "v.yml"), KNOWN, Set.of("help"));
        assertEquals(9000, f.integer("port", 7, 1, 65535));
        assertEquals(Duration.ofMinutes(5), f.duration("slot", Duration.ofHours(1)));
        assertEquals("v.yml", f.string("views", "config/views.yml"));
        assertEquals(List.of("run"), f.positional());
        assertEquals(Duration.ofHours(1), Flags.parse(new String[0], Map.of(), KNOWN, Set.of()).duration("slot", Duration.ofHours(1)));
    }

    @Test
    void anArgumentThatIsNotAFlagIsRefusedByName() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Flags.parse(new String[] {"--port", "9000", "500"}, Map.of(), KNOWN, Set.of("help")));
        assertTrue(e.getMessage().contains("\"500\""), e.getMessage());
        assertThrows(ConfigException.class, () -> Flags.parse(new String[] {"-port", "9000"}, Map.of(), KNOWN, Set.of("help")));
    }

    @Test
    void aSwitchCanBeRequiredOnTheCommandLineItself() {
        Map<String, String> env = Map.of("LAMBDA_ACCEPT_GAP", "true");
        assertTrue(Flags.parse(new String[0], env, KNOWN, Set.of("accept-gap")).isSet("accept-gap"), "isSet takes the environment");
        assertFalse(Flags.parse(new String[0], env, KNOWN, Set.of("accept-gap")).onCommandLine("accept-gap"));
        assertTrue(Flags.parse(new String[] {"--accept-gap"}, Map.of(), KNOWN, Set.of("accept-gap")).onCommandLine("accept-gap"));
    }

    @Test
    void durationsInShortAndIsoForm() {
        assertEquals(Duration.ofMillis(250), Flags.parseDuration("250ms"));
        assertEquals(Duration.ofDays(7), Flags.parseDuration("7d"));
        assertEquals(Duration.ofHours(1), Flags.parseDuration("PT1H"));
        assertEquals(Duration.ZERO, Flags.parseDuration("0"), "as --speed-poll 0 and --state-ttl 0 are documented");
        assertThrows(IllegalArgumentException.class, () -> Flags.parseDuration("5"), "a number without a unit is not a time");
    }

    @Test
    void errorsNameTheSetting() {
        assertEquals("unknown option --prot (see --help)",
                assertThrows(ConfigException.class, () -> Flags.parse(new String[] {"--prot", "1"}, Map.of(), KNOWN, Set.of())).getMessage());
        Flags f = Flags.parse(new String[] {"--port", "x", "--slot", "soon", "--kafka-property", "novalue"}, Map.of(), KNOWN, Set.of());
        assertEquals("--slot must not be negative, got -PT5M", assertThrows(ConfigException.class,
                () -> Flags.parse(new String[] {"--slot", "-PT5M"}, Map.of(), KNOWN, Set.of()).duration("slot", null)).getMessage());
        assertEquals("--port must be a whole number, got \"x\"", assertThrows(ConfigException.class, () -> f.integer("port", 1, 1, 2)).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> f.duration("slot", null)).getMessage().startsWith("--slot: \"soon\" is not a duration"));
        assertEquals("--kafka-property expects key=value, got \"novalue\"",
                assertThrows(ConfigException.class, () -> f.keyValues("kafka-property")).getMessage());
        assertEquals("--views (or LAMBDA_VIEWS) is required", assertThrows(ConfigException.class, () -> f.required("views")).getMessage());
        assertEquals("--port needs a value",
                assertThrows(ConfigException.class, () -> Flags.parse(new String[] {"--port"}, Map.of(), KNOWN, Set.of())).getMessage());
    }

    @Test
    void aBlankValueIsRefusedNotTakenAsAPath() {
        assertEquals("--views (or LAMBDA_VIEWS) is blank: give it a value or leave it out", assertThrows(ConfigException.class,
                () -> Flags.parse(new String[] {"--views", " "}, Map.of(), KNOWN, Set.of()).string("views", "config/views.yml")).getMessage());
        assertThrows(ConfigException.class, () -> Flags.parse(new String[0], Map.of("LAMBDA_VIEWS", ""), KNOWN, Set.of()).string("views", "x"));
        assertEquals("config/views.yml", Flags.parse(new String[0], Map.of(), KNOWN, Set.of()).string("views", "config/views.yml"));
        // a repeatable flag's variable too: a blank LAMBDA_API_KEY would otherwise leave the API open
        assertEquals("LAMBDA_KAFKA_PROPERTY is blank: give it a value or leave it out", assertThrows(ConfigException.class,
                () -> Flags.parse(new String[0], Map.of("LAMBDA_KAFKA_PROPERTY", " "), KNOWN, Set.of()).strings("kafka-property"))
                .getMessage());
        assertEquals(List.of(), Flags.parse(new String[0], Map.of(), KNOWN, Set.of()).strings("kafka-property"));
    }

    @Test
    void aSwitchIsTrueOrFalseNothingElse() {
        assertFalse(Flags.parse(new String[] {"--dry=false"}, Map.of(), KNOWN, Set.of("dry")).isSet("dry"));
        assertTrue(Flags.parse(new String[0], Map.of("LAMBDA_DRY", "TRUE"), KNOWN, Set.of("dry")).isSet("dry"));
        for (Flags f : List.of(Flags.parse(new String[] {"--dry=1"}, Map.of(), KNOWN, Set.of("dry")),
                Flags.parse(new String[0], Map.of("LAMBDA_DRY", "yes"), KNOWN, Set.of("dry")))) {
            assertTrue(assertThrows(ConfigException.class, () -> f.isSet("dry")).getMessage().startsWith("--dry (or LAMBDA_DRY) is a switch"));
        }
        assertThrows(ConfigException.class, () -> Flags.parse(new String[] {"--dry=on"}, Map.of(), KNOWN, Set.of("dry")).onCommandLine("dry"));
    }

    @Test
    void aNumberOrATimeTooLargeIsOutOfRangeNotACrash() {
        Flags f = Flags.parse(new String[] {"--port", "4294967296", "--slot", "9999999999999999d", "--views", "99999999999999999999999"},
                Map.of(), KNOWN, Set.of());
        assertEquals("--port must be between 1 and 65535, got 4294967296", assertThrows(ConfigException.class,
                () -> f.integer("port", 1, 1, 65535)).getMessage());
        assertEquals("--views must be between 0 and 10, got 99999999999999999999999", assertThrows(ConfigException.class,
                () -> f.integer("views", 1, 0, 10)).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> f.duration("slot", null)).getMessage().startsWith("--slot: \"9999999999999999d\""
                + " is too long a time"));
        assertEquals("--slot must be at most 36500d (100 years), got 36501d", assertThrows(ConfigException.class,
                () -> Flags.parse(new String[] {"--slot", "36501d"}, Map.of(), KNOWN, Set.of()).duration("slot", null)).getMessage());
        assertEquals(Duration.ofDays(36_500), Flags.parse(new String[] {"--slot", "36500d"}, Map.of(), KNOWN, Set.of()).duration("slot", null));
    }

    @Test
    void repeatableKeyValueFlags() {
        Flags f = Flags.parse(new String[] {"--kafka-property", "security.protocol=SSL", "--kafka-property", "ssl.truststore.location=/t.jks"},
                Map.of(), KNOWN, Set.of());
        assertEquals(Map.of("security.protocol", "SSL", "ssl.truststore.location", "/t.jks"), f.keyValues("kafka-property"));
    }
}
