package dev.lambda.speed.topology;

/**
 * Headers added to a record sent to the dead-letter topic, besides the record's own headers, key
 * and value, which are kept as they were (but a value too large to send: see {@link #TRUNCATED_FROM}).
 */
public final class DeadLetterHeaders {

    /** Machine-readable reason code, e.g. {@code malformed_json}. */
    public static final String REASON = "lambda.dlq.reason";
    /** One sentence saying what was wrong. */
    public static final String DETAIL = "lambda.dlq.detail";
    public static final String SOURCE_TOPIC = "lambda.source.topic";
    public static final String SOURCE_PARTITION = "lambda.source.partition";
    public static final String SOURCE_OFFSET = "lambda.source.offset";
    /**
     * Set only on a dead letter whose value was cut to fit the producer's request size: the length
     * in bytes of the value as it came (the whole record stays in the source topic at its offset).
     */
    public static final String TRUNCATED_FROM = "lambda.dlq.truncated-from";
    /**
     * Set only on a dead letter whose key and headers alone were too large to send: how many
     * headers of the record's own were left out (its value too, and its key cut to fit).
     */
    public static final String HEADERS_DROPPED = "lambda.dlq.headers-dropped";

    private DeadLetterHeaders() {
    }
}
