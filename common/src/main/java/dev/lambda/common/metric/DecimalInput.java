package dev.lambda.common.metric;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Turns an attribute's text into the exact decimal a sum/min/max metric adds: rounded half-up to
 * the metric's scale (as Spark's decimal cast rounds); text that is not a plain decimal number, or
 * needs more than {@link #MAX_PRECISION} digits, is no value at all (as SQL's {@code try_cast}).
 */
public final class DecimalInput {

    /**
     * The most digits an input may have: ten fewer than the widest decimal Spark holds (38), so
     * that a sum of up to ten billion inputs still fits it, as Spark's own sum type assumes. (An
     * overflowing sum would fail every batch run, or differ from the speed layer's.)
     */
    public static final int MAX_PRECISION = 28;

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
        if (value.signum() == 0) { // "0e27" is zero, however big its exponent
            return BigDecimal.ZERO.setScale(scale);
        }
        // the exponent decides before any rescaling: "1e999999999" or "1e-999999999" would take
        // minutes and gigabytes to rescale, or overflow
        long integerDigits = (long) value.precision() - value.scale(); // the value is below 10^integerDigits
        if (integerDigits > MAX_PRECISION - scale) {
            return null;
        }
        if (integerDigits < -scale) { // below 10^-(scale+1): rounds to zero
            return BigDecimal.ZERO.setScale(scale);
        }
        BigDecimal scaled = value.setScale(scale, RoundingMode.HALF_UP);
        return scaled.precision() > MAX_PRECISION ? null : scaled;
    }
}
