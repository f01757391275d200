package dev.lambda.speed.sink;

import java.util.List;

/**
 * A sink gave rows back unwritten after retrying for as long as it may wait (its store stayed
 * down): the caller writes those rows' aggregates again at its next flush, with their values then.
 * The other rows of the call are stored. The rows given back only name which ones were not stored:
 * their sketches are the layer's own and go on changing, so nobody reads them after the call.
 */
public final class RowsNotWrittenException extends Exception {

    private final transient List<SpeedRowSink.Write> unwritten;

    /** @param unwritten the rows given back: the same objects the sink was handed, all of them if none was stored */
    public RowsNotWrittenException(String message, List<SpeedRowSink.Write> unwritten) {
        super(message);
        this.unwritten = List.copyOf(unwritten);
    }

    public List<SpeedRowSink.Write> unwritten() {
        return unwritten;
    }
}
