package dev.lambda.common.metric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class DecimalInputTest {

    @Test
    void parsesPlainAndExponentNumbersAtTheScale() {
        assertEquals(new BigDecimal("12.50"), DecimalInput.parse("12.5", 2));
        assertEquals(new BigDecimal("1000.00"), DecimalInput.parse("1e3", 2));
        assertEquals(new BigDecimal("-3"), DecimalInput.parse("-2.5", 0));
        assertEquals(new BigDecimal("3"), DecimalInput.parse("2.5", 0));
    }

    @Test
    void rejectsWhatIsNotANumber() {
        assertNull(DecimalInput.parse(null, 2));
        assertNull(DecimalInput.parse("", 2));
        assertNull(DecimalInput.parse(" 12", 2));
        assertNull(DecimalInput.parse("NaN", 2));
        assertNull(DecimalInput.parse("true", 2));
        assertNull(DecimalInput.parse("1" + "0".repeat(40), 0), "more digits than a Spark decimal holds");
    }

    @Test
    void takesAtMost28DigitsSoThatSumsFitSparksWidestDecimal() {
        assertEquals(new BigDecimal("9".repeat(26) + ".99"), DecimalInput.parse("9".repeat(26) + ".99", 2));
        assertNull(DecimalInput.parse("9".repeat(27), 2), "29 digits at scale 2");
        assertNull(DecimalInput.parse("9".repeat(26) + ".995", 2), "29 digits once rounded");
    }

    @Test
    void extremeExponentsAreDecidedWithoutRescaling() {
        assertNull(DecimalInput.parse("1e999999999", 2));
        assertNull(DecimalInput.parse("1e2147483647", 2));
        assertEquals(new BigDecimal("0.00"), DecimalInput.parse("1e-999999999", 2));
        assertEquals(new BigDecimal("0.00"), DecimalInput.parse("-4e-3", 2));
        assertEquals(new BigDecimal("0.01"), DecimalInput.parse("5e-3", 2));
        assertEquals(new BigDecimal("0.00"), DecimalInput.parse("4.9e-3", 2));
        assertEquals(new BigDecimal("0.00"), DecimalInput.parse("0e27", 2));
    }
}
