package dev.lambda.common.config;

/** A setting that cannot be used; the message names it. Runnable modules print it and exit non-zero. */
public class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }
}
