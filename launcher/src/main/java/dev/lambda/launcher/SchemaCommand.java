package dev.lambda.launcher;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.lambda.common.cassandra.CassandraSchema;
import dev.lambda.common.cassandra.CassandraSessions;
import dev.lambda.common.cassandra.CassandraSettings;
import dev.lambda.common.config.Flags;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code ./lambda schema}: creates the keyspace (with the replication given) and the tables, if they
 * do not exist. Every layer does the same at start; this is the one-shot for deployments that want
 * the schema in place, with production replication, before anything runs.
 */
final class SchemaCommand {

    static final String HELP = """
            usage: ./lambda schema [flags]
            Creates the keyspace and the tables view_state, batch_rows, speed_rows_by_slot, batch_generations
            and speed_partitions if they do not exist (an existing keyspace keeps its replication). A keyspace
            of a release before 2026-11-24 has its speed_rows moved to speed_rows_by_slot (stop every process
            of that release first, the batch schedule too; the layers of this one refuse to start until then).
            %s  --help                       show this help
            Every option can also be given as an environment variable: --keyspace -> LAMBDA_KEYSPACE.
            """.formatted(CassandraSettings.FLAG_HELP);

    private SchemaCommand() {
    }

    static int run(String[] args) {
        Flags flags = Flags.parse(args, System.getenv(), new HashSet<>(CassandraSettings.FLAGS), Set.of("help"));
        if (flags.isSet("help")) {
            System.out.print(HELP);
            return 0;
        }
        CassandraSettings settings = CassandraSettings.from(flags);
        long moved = upgrade(settings);
        Console.say("schema ready: keyspace " + settings.keyspace() + " on " + settings.contactPoints()
                + (moved > 0 ? " (" + moved + " speed rows moved to speed_rows_by_slot)" : ""));
        return 0;
    }

    /**
     * Creates what is missing and moves the tables of an earlier release (the demo does it too, on its own data).
     *
     * @return how many rows were moved
     */
    static long upgrade(CassandraSettings settings) {
        try (CqlSession session = CassandraSessions.open(settings)) {
            return new CassandraSchema(settings.keyspace(), settings.replication()).upgrade(session); // a move logs its progress
        }
    }
}
