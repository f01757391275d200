package dev.lambda.serving.query;

/**
 * A query that cannot be answered as asked: carries the HTTP status, a stable machine-readable
 * code and the parameter at fault, so every client gets the same error shape.
 */
public class QueryException extends RuntimeException {

    private final int status;
    private final String code;
    private final String parameter;

    public QueryException(int status, String code, String message, String parameter) {
        super(message);
        this.status = status;
        this.code = code;
        this.parameter = parameter;
    }

    public static QueryException badParameter(String parameter, String message) {
        return new QueryException(400, "bad_parameter", message, parameter);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String parameter() {
        return parameter;
    }
}
