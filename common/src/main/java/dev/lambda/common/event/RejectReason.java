package dev.lambda.common.event;

import java.util.Locale;

/**
 * Why a record was refused (DESIGN §2). The {@link #code()} goes into the dead-letter header, the
 * master dataset's rejected rows and the DLQ metrics, so it is part of the public contract.
 */
public enum RejectReason {
    MALFORMED_JSON,
    NOT_AN_OBJECT,
    MISSING_ID,
    BAD_ID,
    MISSING_TYPE,
    BAD_TYPE,
    MISSING_TS,
    BAD_TS,
    FUTURE_TS,
    ATTRS_NOT_FLAT;

    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }
}
