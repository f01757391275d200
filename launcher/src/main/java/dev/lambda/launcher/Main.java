package dev.lambda.launcher;

import dev.lambda.common.config.ConfigException;
import java.util.Arrays;

/**
 * The launcher's commands besides the layers' own mains (see {@code ./lambda --help}):
 * {@code demo}, {@code servers}, {@code generate} and {@code batch} (which runs the batch layer in a
 * JVM with Spark's jars and options).
 */
public final class Main {

    static final String USAGE = """
            usage: ./lambda COMMAND [flags]          (every command takes --help)
              demo       the whole system on embedded real servers: Kafka, Cassandra, speed layer, API,
                         event generator and the batch layer on a schedule; Ctrl-C stops everything
              servers    only the embedded Kafka and Cassandra, until Ctrl-C
              generate   send realistic events (page views, purchases, sign-ups) to Kafka
              schema     create the Cassandra keyspace and tables (a deployment's one-shot init; moves an
                         earlier release's speed rows)
              speed      the Kafka Streams speed layer
              serve      the REST serving layer
              batch      the Spark batch layer in-process on local[*]: run | ingest | recompute | import
            """;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        String command = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            int exit = switch (command) {
                case "demo" -> DemoCommand.run(rest);
                case "servers" -> ServersCommand.run(rest);
                case "generate" -> GenerateCommand.run(rest);
                case "schema" -> SchemaCommand.run(rest);
                case "batch" -> BatchProcess.runInForeground(LambdaHome.locate(), rest);
                default -> throw new ConfigException("unknown command \"" + command + "\"\n" + USAGE);
            };
            System.exit(exit);
        } catch (ConfigException e) {
            System.err.println("lambda " + command + ": " + e.getMessage());
            System.exit(2);
        } catch (RuntimeException e) {
            System.err.println("lambda " + command + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
