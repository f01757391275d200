package dev.lambda.speed.sink;

/**
 * A sink gave rows back unwritten after retrying for as long as it may wait (its store stayed
 * down): the caller keeps them and writes them again at its next flush.
 */
public final class RowsNotWrittenException extends Exception {

    public RowsNotWrittenException(String message) {
        super(message);
    }
}
