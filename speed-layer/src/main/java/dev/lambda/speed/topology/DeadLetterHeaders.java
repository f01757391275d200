package dev.lambda.speed.topology;

/**
 * Headers added to a record sent to the dead-letter topic, besides the record's own headers, key
 * and value, which are kept as they were.
 */
public final class DeadLetterHeaders {

    /** Machine-readable reason code, e.g. {@code malformed_json}. */
    public static final String REASON = "lambda.dlq.reason";
    /** One sentence saying what was wrong. */
    public static final String DETAIL = "lambda.dlq.detail";
    public static final String SOURCE_TOPIC = "lambda.source.topic";
    public static final String SOURCE_PARTITION = "lambda.source.partition";
    public static final String SOURCE_OFFSET = "lambda.source.offset";

    private DeadLetterHeaders() {
    }
}
