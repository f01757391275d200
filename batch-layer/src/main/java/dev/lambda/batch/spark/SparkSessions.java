package dev.lambda.batch.spark;

import dev.lambda.batch.config.BatchConfig;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of a batch run. Under spark-submit the cluster's master and settings win;
 * otherwise it runs in-process ({@code local[*]} unless {@code --spark-master} says otherwise).
 * Event time math is UTC whatever the machine's zone.
 */
public final class SparkSessions {

    private SparkSessions() {
    }

    public static SparkSession create(BatchConfig config) {
        SparkConf conf = new SparkConf(true);
        SparkSession.Builder builder = SparkSession.builder().appName("lambda-batch-" + config.command())
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", Integer.toString(config.shufflePartitions()))
                .config("spark.sql.streaming.stopGracefullyOnShutdown", "true");
        if (!conf.contains("spark.master")) {
            builder.master(config.sparkMaster() == null ? "local[*]" : config.sparkMaster())
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false");
        }
        return builder.getOrCreate();
    }
}
