package dev.lambda.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A classpath entry holding only {@link OrphanGuard}, so a forked JVM gets the guard without the rest
 * of this JVM's classpath (a launcher's fat jar would otherwise bring its own Kafka, logging and
 * driver classes next to a server's).
 */
final class OrphanGuardLocation {

    private static Path location;

    private OrphanGuardLocation() {
    }

    static synchronized String get() {
        if (location == null) {
            location = extract();
        }
        return location.toString();
    }

    private static Path extract() {
        String resource = OrphanGuard.class.getName().replace('.', '/') + ".class";
        try (InputStream in = OrphanGuard.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            Path dir = Files.createTempDirectory("lambda-orphan-guard");
            Path file = dir.resolve(resource);
            Files.createDirectories(file.getParent());
            Files.copy(in, file);
            // deleteOnExit runs in reverse registration order: register parents before children
            Path relative = dir.relativize(file);
            Path current = dir;
            current.toFile().deleteOnExit();
            for (Path part : relative) {
                current = current.resolve(part);
                current.toFile().deleteOnExit();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource, e);
        }
    }
}
