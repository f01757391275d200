package dev.lambda.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Where a server's jars are: the {@code lib} folder a {@code server-dists} module filled at build
 * time, or the folder named by the system property {@code lambda.dist.<name>} / the environment
 * variable {@code LAMBDA_DIST_<NAME>}. The jars run in a forked JVM and never join this classpath.
 */
record ServerDistribution(String name, Path libDir) {

    static ServerDistribution of(String name) {
        String configured = System.getProperty("lambda.dist." + name,
                System.getenv("LAMBDA_DIST_" + name.toUpperCase(Locale.ROOT)));
        Path dir = Path.of(configured != null ? configured : builtLocation(name)).toAbsolutePath().normalize();
        boolean hasJars;
        try (Stream<Path> files = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
            hasJars = files.anyMatch(p -> p.toString().endsWith(".jar"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        if (!hasJars) {
            throw new IllegalStateException("no " + name + " server jars in " + dir
                    + "; build them with `mvn -q package -DskipTests` from the repository root"
                    + " (or point lambda.dist." + name + " at a folder of them)");
        }
        return new ServerDistribution(name, dir);
    }

    /** The classpath of the server's JVM. */
    String classpath() {
        return libDir + "/*";
    }

    private static String builtLocation(String name) {
        Properties built = new Properties();
        try (InputStream in = ServerDistribution.class.getResourceAsStream("distributions.properties")) {
            if (in == null) {
                throw new IllegalStateException("distributions.properties is missing from the local-cluster jar");
            }
            built.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return built.getProperty(name);
    }
}
