package dev.lambda.serving.http;

import dev.lambda.common.view.ViewDefinition;
import dev.lambda.serving.query.Answer;
import dev.lambda.serving.query.Query;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An answer as BI tools want it: flat rows (JSON objects or CSV lines) with the bucket, the
 * group-by dimensions and the metrics as columns. Decimals stay exact, distinct counts are rounded
 * estimates, "no value" is null (JSON) or an empty field (CSV).
 */
public final class AnswerEncoding {

    private static final Pattern PLAIN_NUMBER = Pattern.compile("[+-]([0-9]+(\\.[0-9]*)?|\\.[0-9]+)?");

    private AnswerEncoding() {
    }

    public static List<String> columns(Answer answer) {
        Query q = answer.query();
        List<String> columns = new ArrayList<>();
        if (!q.isAll()) {
            columns.add("bucket");
        }
        columns.addAll(q.groupBy());
        for (int m : q.metrics()) {
            columns.add(q.view().metrics().get(m).name());
        }
        return columns;
    }

    /** The JSON document of an answer (serialized by the caller's mapper). */
    public static Map<String, Object> json(Answer answer) {
        Query q = answer.query();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("view", q.view().name());
        doc.put("granularity", q.isAll() ? "all" : q.granularity().id());
        doc.put("timeZone", q.zone().equals(ZoneOffset.UTC) ? "UTC" : q.zone().getId());
        doc.put("from", q.from().toString());
        doc.put("to", q.to().toString());
        Map<String, Object> freshness = new LinkedHashMap<>();
        freshness.put("batchCutoff", text(answer.batchCutoff()));
        freshness.put("batchGeneration", answer.generation());
        freshness.put("speedThrough", text(answer.speedThrough()));
        freshness.put("readLevel", answer.readLevel().id());
        doc.put("freshness", freshness);
        List<String> columns = columns(answer);
        List<Map<String, Object>> rows = new ArrayList<>(answer.rows().size());
        for (Answer.Row r : answer.rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            int c = 0;
            if (!q.isAll()) {
                row.put(columns.get(c++), r.bucket().toString());
            }
            for (String g : r.groups()) {
                row.put(columns.get(c++), g);
            }
            for (Object v : r.metrics()) {
                row.put(columns.get(c++), v);
            }
            rows.add(row);
        }
        doc.put("rows", rows);
        return doc;
    }

    /**
     * RFC 4180 CSV with a header row. A dimension value a spreadsheet would take for a formula
     * (starting with {@code = + - @}, a tab or a carriage return, but for a plain number) gets a {@code '} before it: the
     * values come from events anyone may send, and {@code =HYPERLINK(…)} in a product name must not
     * run in the analyst's Excel. Metrics, never formulas, are left as they are (negative numbers).
     */
    public static String csv(Answer answer) {
        StringBuilder out = new StringBuilder();
        List<String> columns = columns(answer);
        for (int i = 0; i < columns.size(); i++) {
            out.append(i == 0 ? "" : ",").append(field(columns.get(i)));
        }
        out.append("\r\n");
        for (Answer.Row r : answer.rows()) {
            List<String> fields = new ArrayList<>();
            if (!answer.query().isAll()) {
                fields.add(r.bucket().toString());
            }
            for (String g : r.groups()) {
                fields.add(inert(g));
            }
            for (Object v : r.metrics()) {
                fields.add(v == null ? "" : v instanceof BigDecimal d ? d.toPlainString() : v.toString());
            }
            for (int i = 0; i < fields.size(); i++) {
                out.append(i == 0 ? "" : ",").append(field(fields.get(i)));
            }
            out.append("\r\n");
        }
        return out.toString();
    }

    /** A view as the API describes it. */
    public static Map<String, Object> view(ViewDefinition v) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("name", v.name());
        doc.put("version", v.version());
        doc.put("events", v.events());
        doc.put("dimensions", v.dimensions());
        doc.put("granularity", v.granularity().id());
        doc.put("levels", v.levels().stream().map(g -> g.id()).toList());
        List<Map<String, Object>> metrics = new ArrayList<>();
        v.metrics().forEach(m -> {
            Map<String, Object> metric = new LinkedHashMap<>();
            metric.put("name", m.name());
            metric.put("type", m.type().id());
            metric.put("field", m.field());
            if (m.type().isDecimal()) {
                metric.put("scale", m.scale());
            }
            metrics.add(metric);
        });
        doc.put("metrics", metrics);
        return doc;
    }

    static String text(Instant t) {
        return t == null ? null : t.toString();
    }

    /**
     * A dimension value as text a spreadsheet shows rather than evaluates (OWASP's advice on CSV
     * injection), but for a plain number or a lone sign ({@code -5}, {@code +1.5}, {@code -}, the
     * usual "none" of web logs): those are no formula, and are left as they are.
     */
    static String inert(String value) {
        boolean formulaLike = !value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0;
        return formulaLike && !PLAIN_NUMBER.matcher(value).matches() ? "'" + value : value;
    }

    private static String field(String s) {
        boolean quote = s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0;
        return quote ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }
}
