package dev.lambda.batch.spark;

import dev.lambda.batch.config.BatchConfig;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of a batch run. Under spark-submit the cluster's master and settings win, but
 * for the shuffle's partitions when {@code --shuffle-partitions} is given; otherwise it runs
 * in-process ({@code local[*]} unless {@code --spark-master} says otherwise). Event time math is UTC
 * whatever the machine's zone.
 */
public final class SparkSessions {

    private SparkSessions() {
    }

    /** Where neither the flag nor spark-submit's {@code --conf} says: few, for the in-process default on a few cores. */
    static final int DEFAULT_SHUFFLE_PARTITIONS = 8;

    public static SparkSession create(BatchConfig config) {
        SparkConf conf = new SparkConf(true);
        SparkSession.Builder builder = SparkSession.builder().appName("lambda-batch-" + config.command())
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.streaming.stopGracefullyOnShutdown", "true");
        int shufflePartitions = shufflePartitions(config.shufflePartitions(), conf.getOption("spark.sql.shuffle.partitions").isDefined());
        if (shufflePartitions > 0) {
            builder.config("spark.sql.shuffle.partitions", Integer.toString(shufflePartitions));
        }
        if (!conf.contains("spark.master")) {
            builder.master(config.sparkMaster() == null ? "local[*]" : config.sparkMaster())
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false");
        }
        return builder.getOrCreate();
    }

    /** The shuffle's partitions to set: the flag's when given, else none when spark-submit set them (0), else the default. */
    static int shufflePartitions(int flag, boolean submitted) {
        return flag > 0 ? flag : submitted ? 0 : DEFAULT_SHUFFLE_PARTITIONS;
    }
}
