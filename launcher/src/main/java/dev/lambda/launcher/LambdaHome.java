package dev.lambda.launcher;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The repository checkout the launcher runs from: where the layers' jars, Spark's jars and the
 * default configuration are. {@code -Dlambda.home} (set by {@code ./lambda}) or, failing that, two
 * folders up from this jar ({@code launcher/target/}).
 */
record LambdaHome(Path root) {

    static final String VERSION = "0.1.0-SNAPSHOT";

    /** Spark's JVM options on JDK 17 (the set Spark's own launcher passes). */
    static final List<String> SPARK_JVM_OPTIONS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false");

    static LambdaHome locate() {
        String configured = System.getProperty("lambda.home");
        if (configured != null) {
            return new LambdaHome(Path.of(configured).toAbsolutePath().normalize());
        }
        try {
            Path jar = Path.of(LambdaHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return new LambdaHome(jar.getParent().getParent().getParent().toAbsolutePath().normalize());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("cannot tell where the lambda checkout is; set -Dlambda.home", e);
        }
    }

    /** A layer's runnable jar, failing with how to build it when it is missing. */
    Path layerJar(String module) {
        Path jar = root.resolve(module).resolve("target").resolve(module + "-" + VERSION + "-all.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing; build it with `mvn -q -DskipTests package` in " + root);
        }
        return jar;
    }

    /** The batch layer's classpath when it runs in-process on local[*]: its jar plus Spark's jars. */
    String batchClasspath() {
        Path sparkLib = root.resolve("server-dists/spark/target/lib");
        if (!Files.isDirectory(sparkLib)) {
            throw new IllegalStateException(sparkLib + " is missing; build it with `mvn -q -DskipTests package` in " + root);
        }
        return layerJar("batch-layer") + java.io.File.pathSeparator + sparkLib + "/*";
    }

    Path defaultViews() {
        return root.resolve("config/views.yml");
    }

    Path batchLogConfig() {
        return root.resolve("config/log4j2-batch.properties");
    }
}
