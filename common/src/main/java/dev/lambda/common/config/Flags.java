package dev.lambda.common.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Command-line flags with environment-variable fallbacks, the one way every runnable module reads
 * its settings: {@code --name value} or {@code --name=value} beats {@code LAMBDA_NAME} (upper case,
 * dashes to underscores), which beats the default. Every failure names the setting.
 */
public final class Flags {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    /** No setting is a longer time than this: well inside the ~292 years a long holds in nanoseconds, now added included. */
    static final Duration LONGEST = Duration.ofDays(36_500);

    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final Map<String, String> env;
    private final List<String> positional = new ArrayList<>();

    private Flags(Map<String, String> env) {
        this.env = env;
    }

    /**
     * Flags only: any other argument (a flag's value given without its name, say) is an error naming it.
     *
     * @param args  the command line
     * @param env   the environment (System.getenv() in production)
     * @param known every flag name the program takes; an unknown one is an error
     * @param switches the flags that take no value (e.g. "help")
     */
    public static Flags parse(String[] args, Map<String, String> env, Set<String> known, Set<String> switches) {
        Flags flags = parseWithArguments(args, env, known, switches);
        if (!flags.positional.isEmpty()) {
            throw new ConfigException("unexpected argument \"" + flags.positional.get(0) + "\": flags start with -- and this takes"
                    + " nothing else (see --help)");
        }
        return flags;
    }

    /** As {@link #parse}, keeping the arguments that are not flags in {@link #positional()}, for a command word. */
    public static Flags parseWithArguments(String[] args, Map<String, String> env, Set<String> known, Set<String> switches) {
        Flags flags = new Flags(env);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                flags.positional.add(arg);
                continue;
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!known.contains(name) && !switches.contains(name)) {
                throw new ConfigException("unknown option --" + name + " (see --help)");
            }
            if (switches.contains(name)) {
                value = value == null ? "true" : value;
            } else if (value == null) {
                if (i + 1 >= args.length) {
                    throw new ConfigException("--" + name + " needs a value");
                }
                value = args[++i];
            }
            flags.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return flags;
    }

    /** The environment variable a flag falls back to: {@code --kafka-port} → {@code LAMBDA_KAFKA_PORT}. */
    public static String envName(String flag) {
        return "LAMBDA_" + flag.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    public List<String> positional() {
        return List.copyOf(positional);
    }

    public boolean isSet(String name) {
        return switchValue(name, string(name, "false"));
    }

    /** A switch given on the command line itself: for what must never stay on by way of an environment. */
    public boolean onCommandLine(String name) {
        List<String> given = values.get(name);
        return given != null && switchValue(name, given.get(given.size() - 1));
    }

    /** Whether the flag was given on the command line itself (with any value), not by the environment. */
    public boolean given(String name) {
        return values.containsKey(name);
    }

    private static boolean switchValue(String name, String text) {
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new ConfigException("--" + name + " (or " + envName(name) + ") is a switch: true or false, got \"" + text + "\"");
    }

    /**
     * The value given (the last, if the flag is given more than once), else the environment's, else
     * {@code fallback}. A blank value is refused, naming the setting: it would otherwise be taken
     * as a path or a name, and a blank path is the current or the root directory.
     */
    public String string(String name, String fallback) {
        List<String> given = values.get(name);
        String value = given != null ? given.get(given.size() - 1) : env.get(envName(name));
        if (value == null) {
            return fallback;
        }
        if (value.isBlank()) {
            throw new ConfigException("--" + name + " (or " + envName(name) + ") is blank: give it a value or leave it out");
        }
        return value;
    }

    /**
     * Every value of a repeatable flag (the environment variable holds them comma-separated). A blank
     * variable is refused like any blank value: {@code LAMBDA_API_KEY=} from a compose file whose
     * {@code ${API_KEY}} was never set would otherwise mean no key at all, an open API.
     */
    public List<String> strings(String name) {
        List<String> given = values.get(name);
        if (given != null) {
            return List.copyOf(given);
        }
        String fromEnv = env.get(envName(name));
        if (fromEnv != null && fromEnv.isBlank()) {
            throw new ConfigException(envName(name) + " is blank: give it a value or leave it out");
        }
        return fromEnv == null ? List.of() : List.of(fromEnv.split(","));
    }

    public String required(String name) {
        String value = string(name, null);
        if (value == null || value.isBlank()) {
            throw new ConfigException("--" + name + " (or " + envName(name) + ") is required");
        }
        return value;
    }

    public int integer(String name, int fallback, int min, int max) {
        String text = string(name, null);
        if (text == null) {
            return fallback;
        }
        String digits = text.trim();
        long value;
        try {
            value = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            if (digits.matches("[-+]?\\d+")) {
                value = digits.startsWith("-") ? Long.MIN_VALUE : Long.MAX_VALUE; // too many digits even for a long
            } else {
                throw new ConfigException("--" + name + " must be a whole number, got \"" + text + "\"");
            }
        }
        if (value < min || value > max) {
            throw new ConfigException("--" + name + " must be between " + min + " and " + max + ", got " + digits);
        }
        return (int) value;
    }

    public Duration duration(String name, Duration fallback) {
        String text = string(name, null);
        if (text == null) {
            return fallback;
        }
        Duration duration;
        try {
            duration = parseDuration(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--" + name + ": " + e.getMessage());
        }
        if (duration.isNegative()) { // no setting is a negative time: caught here rather than deep in a run
            throw new ConfigException("--" + name + " must not be negative, got " + text);
        }
        if (duration.compareTo(LONGEST) > 0) {
            throw new ConfigException("--" + name + " must be at most " + LONGEST.toDays() + "d (100 years), got " + text);
        }
        return duration;
    }

    /** Parses {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 7d}, ISO-8601 ({@code PT1H}) or a bare {@code 0}. */
    public static Duration parseDuration(String text) {
        String t = text.trim();
        if (t.equals("0")) { // "0 = off" in several settings' help: no unit needed for nothing
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(t);
        if (m.matches()) {
            try {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("\"" + text + "\" is too long a time (at most " + LONGEST.toDays() + "d)");
            }
        }
        try {
            return Duration.parse(t);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a duration (e.g. 250ms, 30s, 5m, 1h, 7d)");
        }
    }

    /** Parses repeated {@code key=value} pairs (client properties passed through to Kafka). */
    public Map<String, String> keyValues(String name) {
        Map<String, String> pairs = new LinkedHashMap<>();
        for (String pair : strings(name)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--" + name + " expects key=value, got \"" + pair + "\"");
            }
            pairs.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return pairs;
    }
}
