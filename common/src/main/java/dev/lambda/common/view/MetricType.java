package dev.lambda.common.view;

import java.util.Locale;

/** The metric types of DESIGN §3; every one is a commutative monoid under {@code plus}. */
public enum MetricType {
    COUNT,
    SUM,
    MIN,
    MAX,
    DISTINCT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the metric reads an attribute ({@code field}); only count does not. */
    public boolean needsField() {
        return this != COUNT;
    }

    /** Whether the metric is an exact decimal with a declared scale. */
    public boolean isDecimal() {
        return this == SUM || this == MIN || this == MAX;
    }
}
