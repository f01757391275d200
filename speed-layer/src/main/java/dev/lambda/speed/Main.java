package dev.lambda.speed;

import dev.lambda.common.config.ConfigException;
import dev.lambda.common.config.Flags;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewConfigException;
import dev.lambda.speed.config.SpeedConfig;

/** Runs the speed layer until SIGTERM / Ctrl-C, then closes it cleanly. */
public final class Main {

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
        SpeedLayer layer = SpeedLayer.start(config, views);
        Thread shutdown = new Thread(layer::close, "speed-layer-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        layer.awaitStop();
        if (layer.state() == org.apache.kafka.streams.KafkaStreams.State.ERROR) {
            System.err.println("speed-layer: the streams application failed; see the log above");
            System.exit(1);
        }
    }
}
