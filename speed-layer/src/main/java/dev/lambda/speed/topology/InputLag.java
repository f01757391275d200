package dev.lambda.speed.topology;

/**
 * How far this instance is behind an input partition: the records in Kafka its consumer has not
 * returned to Kafka Streams yet, as of the consumer's last fetch. The flush pacing asks it: only a
 * partition with records waiting spaces its flushes out.
 */
@FunctionalInterface
public interface InputLag {

    /** No lag known for any partition: every partition counts as caught up. */
    InputLag NONE = partition -> 0;

    /** Records of the input partition waiting in Kafka; 0 when caught up or not known. */
    long recordsBehind(int partition);
}
