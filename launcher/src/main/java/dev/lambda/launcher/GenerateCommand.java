package dev.lambda.launcher;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.config.KafkaClientSettings;
import java.util.HashSet;
import java.util.Set;

/** {@code ./lambda generate}: realistic events into Kafka at a steady rate. */
final class GenerateCommand {

    static final String HELP = """
            usage: ./lambda generate [flags]
            Sends page views, purchases and sign-ups (keyed by event id) to Kafka at a steady rate, with a
            share of re-sent duplicates, late events and malformed records, until --count or Ctrl-C.
            %s  --topic NAME                 events topic                                     [events]
              --rate N                     records per second                               [200]
              --count N                    stop after N records, 0 = never                  [0]
              --duplicates FRACTION        share of re-sent records                         [0.01]
              --late FRACTION              share of events 1 min to 3 h late                [0.02]
              --malformed FRACTION         share of records the parser rejects              [0.001]
              --seed N                     random seed                                      [time]
              --help                       show this help
            Every option can also be given as an environment variable: --rate -> LAMBDA_RATE.
            """.formatted(KafkaClientSettings.FLAG_HELP);

    private GenerateCommand() {
    }

    static int run(String[] args) {
        Set<String> known = new HashSet<>(KafkaClientSettings.FLAGS);
        known.addAll(Set.of("topic", "rate", "count", "duplicates", "late", "malformed", "seed"));
        Flags flags = Flags.parse(args, System.getenv(), known, Set.of("help"));
        if (flags.isSet("help")) {
            System.out.print(HELP);
            return 0;
        }
        GeneratorRun run = new GeneratorRun(KafkaClientSettings.from(flags), flags.string("topic", "events"),
                new EventGenerator(seed(flags), fraction(flags, "duplicates", 0.01), fraction(flags, "late", 0.02),
                        fraction(flags, "malformed", 0.001)),
                flags.integer("rate", 200, 1, 10_000_000), flags.integer("count", 0, 0, Integer.MAX_VALUE), Console::say);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            run.stop();
            try {
                done.await(10, java.util.concurrent.TimeUnit.SECONDS); // let it flush what it sent
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stop-generator"));
        try {
            run.run();
        } finally {
            done.countDown();
        }
        return 0;
    }

    static double fraction(Flags flags, String name, double fallback) {
        String text = flags.string(name, null);
        if (text == null) {
            return fallback;
        }
        try {
            double value = Double.parseDouble(text);
            if (!(value >= 0 && value <= 0.5)) { // NaN too
                throw new ConfigException("--" + name + " must lie between 0 and 0.5, got " + text);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new ConfigException("--" + name + ": \"" + text + "\" is not a number like 0.01");
        }
    }

    private static long seed(Flags flags) {
        String text = flags.string("seed", null);
        try {
            return text == null ? System.nanoTime() : Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new ConfigException("--seed: \"" + text + "\" is not an integer");
        }
    }
}
