package dev.lambda.common.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * How a process reaches Kafka: bootstrap servers plus any client properties passed through as they
 * are (TLS, SASL, ...), from a properties file ({@code --kafka-config}) and/or repeated
 * {@code --kafka-property key=value} flags, the latter winning.
 */
public record KafkaClientSettings(String bootstrapServers, Map<String, String> clientProperties) {

    public static final List<String> FLAGS = List.of("bootstrap", "kafka-config", "kafka-property");

    /** Help lines of these flags, for every runnable module's --help. */
    public static final String FLAG_HELP = """
              --bootstrap HOST:PORT        Kafka bootstrap servers                         [127.0.0.1:9092]
              --kafka-config FILE          Kafka client properties file (TLS, SASL, ...)    [none]
              --kafka-property KEY=VALUE   one Kafka client property; repeatable            [none]
            """;

    public KafkaClientSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new ConfigException("--bootstrap must name at least one Kafka broker host:port");
        }
        clientProperties = Map.copyOf(clientProperties);
    }

    public static KafkaClientSettings from(Flags flags) {
        Map<String, String> props = new LinkedHashMap<>();
        String file = flags.string("kafka-config", null);
        if (file != null) {
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(Path.of(file))) {
                p.load(in);
            } catch (IOException e) {
                throw new ConfigException("--kafka-config: cannot read " + file + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> props.put(k, p.getProperty(k)));
        }
        props.putAll(flags.keyValues("kafka-property"));
        return new KafkaClientSettings(flags.string("bootstrap", "127.0.0.1:9092"), props);
    }
}
