package dev.lambda.speed.testing;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lambda.common.cassandra.StoredMetrics;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads every speed row of a keyspace (a full scan: test data is small), sums each group over slots
 * and source partitions, and compares with the oracle. Returns the differences, empty when exact.
 */
public final class SpeedRowsCheck {

    private SpeedRowsCheck() {
    }

    public static List<String> differences(CqlSession session, String keyspace, ViewCatalog views, Map<Oracle.GroupKey, Oracle.Expected> expected) {
        Map<Oracle.GroupKey, List<MetricValue>> actual = new HashMap<>();
        for (Row row : session.execute("SELECT view_name, level, bucket, dims, counts, decimals, sketches FROM " + keyspace + ".speed_rows_by_slot")) {
            ViewDefinition view = views.find(row.getString("view_name")).orElseThrow();
            var values = new StoredMetrics(row.getMap("counts", String.class, Long.class),
                    row.getMap("decimals", String.class, BigDecimal.class), row.getMap("sketches", String.class, ByteBuffer.class))
                    .decode(view).values();
            actual.merge(new Oracle.GroupKey(view.name(), row.getString("level"), row.getInstant("bucket").toEpochMilli(),
                    row.getList("dims", String.class)), values, SpeedRowsCheck::plus);
        }
        List<String> diffs = new ArrayList<>();
        Map<Oracle.GroupKey, Oracle.Expected> sorted = new TreeMap<>(java.util.Comparator.comparing(Object::toString));
        sorted.putAll(expected);
        sorted.forEach((key, x) -> {
            List<MetricValue> v = actual.get(key);
            if (v == null) {
                diffs.add(key + ": missing");
                return;
            }
            compare(diffs, key + " count", x.count, v.get(0).read());
            if (key.view().equals("sales")) {
                compare(diffs, key + " revenue", x.anyAmount ? BigDecimal.valueOf(x.sumCents, 2) : null, v.get(1).read());
                compare(diffs, key + " min", x.anyAmount ? BigDecimal.valueOf(x.minCents, 2) : null, v.get(2).read());
                compare(diffs, key + " max", x.anyAmount ? BigDecimal.valueOf(x.maxCents, 2) : null, v.get(3).read());
            }
            long estimate = (Long) v.get(v.size() - 1).read();
            if (Math.abs(estimate - x.distinct.size()) > Math.max(1, x.distinct.size() * 0.05)) {
                diffs.add(key + " distinct: expected ~" + x.distinct.size() + " got " + estimate);
            }
        });
        actual.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> diffs.add(k + ": unexpected"));
        return diffs;
    }

    private static void compare(List<String> diffs, String what, Object expected, Object actual) {
        if (!java.util.Objects.equals(expected, actual)) {
            diffs.add(what + ": expected " + expected + " got " + actual);
        }
    }

    private static List<MetricValue> plus(List<MetricValue> a, List<MetricValue> b) {
        List<MetricValue> sum = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            sum.add(a.get(i).plus(b.get(i)));
        }
        return sum;
    }
}
