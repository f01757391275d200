package dev.lambda.speed;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewConfigException;
import dev.lambda.speed.config.SpeedConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the speed layer until SIGTERM / Ctrl-C, then closes it cleanly. */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        SpeedConfig config;
        ViewCatalog views;
        try {
            Flags flags = SpeedConfig.flags(args, System.getenv());
            if (flags.isSet("help")) {
                System.out.print(SpeedConfig.HELP);
                return;
            }
            config = SpeedConfig.from(flags);
            views = new ViewCatalogLoader().load(config.viewsFile());
        } catch (ConfigException | ViewConfigException e) {
            System.err.println("speed-layer: " + e.getMessage());
            System.exit(2);
            return;
        }
        SpeedLayer layer;
        try {
            layer = SpeedLayer.start(config, views);
        } catch (ConfigException e) {
            System.err.println("speed-layer: " + e.getMessage());
            System.exit(2);
            return;
        } catch (RuntimeException e) {
            LOG.error("cannot start", e);
            System.err.println("speed-layer: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        Thread shutdown = new Thread(layer::close, "speed-layer-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        layer.awaitStop();
        if (layer.state() == KafkaStreams.State.ERROR) {
            System.err.println("speed-layer: the streams application failed; see the log above");
            System.exit(1);
        }
    }
}
