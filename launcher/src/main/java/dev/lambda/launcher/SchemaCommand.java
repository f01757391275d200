package dev.lambda.launcher;

import com.datastax.oss.driver.api.core.CqlSession;
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
            and speed_partitions if they do not exist (an existing keyspace keeps its replication), and
            moves the rows of a keyspace's speed_rows (before 2026-11-24) to speed_rows_by_slot.
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
        try (CqlSession ignored = CassandraSessions.openWithSchema(settings)) {
            Console.say("schema ready: keyspace " + settings.keyspace() + " on " + settings.contactPoints());
        }
        return 0;
    }
}
