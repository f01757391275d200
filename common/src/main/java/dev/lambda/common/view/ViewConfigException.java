package dev.lambda.common.view;

/** A views file that cannot be used; the message names the file, the view and the field. */
public class ViewConfigException extends RuntimeException {

    public ViewConfigException(String message) {
        super(message);
    }

    public ViewConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
