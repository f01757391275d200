package dev.lambda.common.event;

import java.util.Objects;

/** The outcome of parsing one record value: a valid event, or a rejection saying why. */
public sealed interface ParseResult {

    record Valid(Event event) implements ParseResult {
        public Valid {
            Objects.requireNonNull(event, "event");
        }
    }

    /**
     * @param reason machine-readable reason
     * @param detail one human-readable sentence naming what was wrong
     */
    record Rejected(RejectReason reason, String detail) implements ParseResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }
}
