package dev.lambda.common.metric;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Turns an attribute's text into the exact decimal a sum/min/max metric adds: rounded half-up to
 * the metric's scale (as Spark's decimal cast rounds); text that is not a plain decimal number, or
 * needs more than {@link #MAX_PRECISION} digits, is no value at all (as SQL's {@code try_cast}).
 */
public final class DecimalInput {

    /** The widest decimal Spark can hold. */
    public static final int MAX_PRECISION = 38;

    private DecimalInput() {
    }

    /** The decimal for {@code text} at {@code scale}, or {@code null} when the text is not a usable number. */
    public static BigDecimal parse(String text, int scale) {
        if (text == null || text.isEmpty() || text.length() > 100) {
            return null;
        }
        BigDecimal value;
        try {
            value = new BigDecimal(text);
        } catch (NumberFormatException e) {
            return null;
        }
        BigDecimal scaled = value.setScale(scale, RoundingMode.HALF_UP);
        return scaled.precision() > MAX_PRECISION ? null : scaled;
    }
}
