package dev.lambda.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.batch.config.BatchConfig;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.config.Flags;
import dev.lambda.serving.config.ServingConfig;
import dev.lambda.speed.config.SpeedConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code docker-compose.yml} cannot run here (no Docker engine), so this checks what would break it:
 * startup ordering that names real services and waits on health checks or finished one-shots, images
 * built from stages the Dockerfile has, and every part configured only by environment variables that
 * part understands, with values its own configuration code accepts.
 */
class ComposeFileTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern DEFAULTED = Pattern.compile("\\$\\{([A-Z_]+):-([^}]*)}");

    private final Map<String, Object> compose = load();
    private final Map<String, Map<String, Object>> services = cast(compose.get("services"));

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }

    private static Map<String, Object> load() {
        try {
            return new Yaml().load(Files.readString(ROOT.resolve("docker-compose.yml")));
        } catch (IOException e) {
            throw new AssertionError("cannot read docker-compose.yml", e);
        }
    }

    @Test
    void everyPartOfTheSystemIsThereWithTwoSpeedReplicas() {
        assertTrue(services.keySet().containsAll(Set.of("kafka", "kafka-init", "cassandra", "schema-init", "spark-master",
                "spark-worker", "speed", "serving", "batch")), "services: " + services.keySet());
        Map<String, Object> deploy = cast(services.get("speed").get("deploy"));
        assertEquals(2, deploy.get("replicas"));
        assertFalse(services.get("speed").containsKey("container_name"), "replicas cannot share a container name");
    }

    @Test
    void startupOrderNamesRealServicesAndWaitsForHealthOrCompletion() {
        Set<String> conditions = Set.of("service_started", "service_healthy", "service_completed_successfully");
        services.forEach((name, service) -> {
            Map<String, Map<String, Object>> dependsOn = cast(service.getOrDefault("depends_on", Map.of()));
            dependsOn.forEach((target, how) -> {
                assertTrue(services.containsKey(target), name + " depends on unknown service " + target);
                String condition = (String) how.get("condition");
                assertTrue(conditions.contains(condition), name + " -> " + target + ": condition " + condition);
                if (condition.equals("service_healthy")) {
                    assertTrue(services.get(target).containsKey("healthcheck"), name + " waits for " + target + " to be healthy, which has no healthcheck");
                }
                if (condition.equals("service_completed_successfully")) {
                    assertEquals("no", services.get(target).get("restart"), target + " is a one-shot and must not restart");
                }
            });
        });
        for (String server : List.of("kafka", "cassandra", "serving", "speed", "spark-master")) {
            assertTrue(services.get(server).containsKey("healthcheck"), server + " has a health check");
        }
        services.forEach((name, service) -> {
            if (!name.endsWith("-init")) {
                assertEquals("unless-stopped", service.get("restart"), name + " restarts after a failure");
            }
        });
    }

    @Test
    void imagesBuiltHereComeFromTheDockerfileWithTheFilesItCopies() throws IOException {
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        services.forEach((name, service) -> {
            if (service.containsKey("build")) {
                Map<String, Object> build = cast(service.get("build"));
                assertEquals(".", build.get("context"), name);
                assertTrue(dockerfile.contains(" AS " + build.get("target") + "\n"), name + ": no Dockerfile stage " + build.get("target"));
            }
        });
        Matcher copies = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(dockerfile);
        int checked = 0;
        while (copies.find()) {
            if (!copies.group(1).equals(".")) {
                assertTrue(Files.exists(ROOT.resolve(copies.group(1))), "the Dockerfile copies " + copies.group(1) + ", which is missing");
                checked++;
            }
        }
        assertTrue(checked >= 2);
        assertTrue(Files.isExecutable(ROOT.resolve("deploy/batch-schedule.sh")), "the batch image's entry point is executable");
    }

    @Test
    void everyLayerIsConfiguredOnlyByEnvironmentVariablesItUnderstands() {
        assertConfiguredByEnvironment("speed", SpeedConfig.knownFlags(), env -> SpeedConfig.from(SpeedConfig.flags(new String[0], env)));
        assertConfiguredByEnvironment("serving", ServingConfig.knownFlags(), env -> ServingConfig.from(ServingConfig.flags(new String[0], env)));
        assertConfiguredByEnvironment("batch", BatchConfig.knownFlags(),
                env -> BatchConfig.from(BatchConfig.flags(new String[] {"run"}, env)));
        Set<String> cassandraFlags = new HashSet<>(CassandraSettings.FLAGS);
        assertConfiguredByEnvironment("schema-init", cassandraFlags,
                env -> CassandraSettings.from(Flags.parse(new String[0], env, cassandraFlags, Set.of())));
        List<Object> servingPorts = cast(services.get("serving").get("ports"));
        assertEquals("${API_HOST:-127.0.0.1}:${API_PORT:-7070}:7070", servingPorts.get(0), "the API on this host only unless asked");
    }

    private void assertConfiguredByEnvironment(String name, Set<String> knownFlags, java.util.function.Consumer<Map<String, String>> parse) {
        Map<String, Object> raw = cast(services.get(name).get("environment"));
        Map<String, String> env = new HashMap<>();
        raw.forEach((key, value) -> env.put(key, withDefaults(String.valueOf(value))));
        Set<String> understood = new HashSet<>();
        knownFlags.forEach(flag -> understood.add(Flags.envName(flag)));
        env.keySet().stream().filter(k -> k.startsWith("LAMBDA_")).forEach(k ->
                assertTrue(understood.contains(k), name + ": " + k + " is no flag of this part"));
        Object command = services.get(name).get("command");
        if (command instanceof List<?> words) {
            words.forEach(w -> assertFalse(String.valueOf(w).startsWith("--"), name + " is configured by environment, not by the flag " + w));
        }
        parse.accept(env); // throws with the setting's name if a value is wrong
    }

    private static String withDefaults(String value) {
        Matcher m = DEFAULTED.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(2)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
