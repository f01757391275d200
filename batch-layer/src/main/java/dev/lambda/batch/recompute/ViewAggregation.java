package dev.lambda.batch.recompute;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.lambda.common.metric.DecimalInput;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.Granularity;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * Aggregates deduplicated events into a view at its base level and every coarser one (DESIGN §3),
 * with the same semantics as {@code common}'s metric algebra: exact decimals read by the shared
 * {@link DecimalInput}, distinct counts as DataSketches HLL sketches ({@code hll_sketch_agg}, lgK 12,
 * the speed layer's sketch). Coarser levels are rolled up from the base level with the monoid's
 * {@code plus}: sums of counts and decimals, min of mins, max of maxes, unions of sketches.
 *
 * <p>Output columns: {@code level}, {@code bucket}, {@code dims} (array, view order, "" for a missing
 * attribute) and {@code m0 … mN}, one per metric in view order.
 */
public final class ViewAggregation {

    private ViewAggregation() {
    }

    public static String metricColumn(int index) {
        return "m" + index;
    }

    public static Dataset<Row> aggregate(Dataset<Row> events, ViewDefinition view) {
        List<MetricSpec> metrics = view.metrics();
        Dataset<Row> fed = events.filter(col("event_type").isin(view.events().toArray()));

        List<Column> inputs = new ArrayList<>();
        inputs.add(functions.date_trunc(view.granularity().id(), col("event_ts")).as("bucket"));
        inputs.addAll(dimensionColumns(view));
        for (int i = 0; i < metrics.size(); i++) {
            inputs.add(metricInput(metrics.get(i)).as("in" + i));
        }
        List<Column> baseAggs = new ArrayList<>();
        for (int i = 0; i < metrics.size(); i++) {
            Column in = col("in" + i);
            baseAggs.add((switch (metrics.get(i).type()) {
                case COUNT -> functions.count(lit(1));
                case SUM -> functions.sum(in);
                case MIN -> functions.min(in);
                case MAX -> functions.max(in);
                case DISTINCT -> functions.hll_sketch_agg(in, MetricValue.Distinct.LG_K);
            }).as(metricColumn(i)));
        }
        Column[] groupBase = groupColumns(view, col("bucket"));
        Dataset<Row> base = fed.select(inputs.toArray(Column[]::new)).groupBy(groupBase)
                .agg(baseAggs.get(0), baseAggs.subList(1, baseAggs.size()).toArray(Column[]::new));

        Dataset<Row> all = withLevel(base, view, view.granularity());
        for (Granularity level : view.levels().subList(1, view.levels().size())) {
            List<Column> rollups = new ArrayList<>();
            for (int i = 0; i < metrics.size(); i++) {
                Column m = col(metricColumn(i));
                rollups.add((switch (metrics.get(i).type()) {
                    case COUNT, SUM -> functions.sum(m);
                    case MIN -> functions.min(m);
                    case MAX -> functions.max(m);
                    case DISTINCT -> functions.hll_union_agg(m, false);
                }).as(metricColumn(i)));
            }
            Dataset<Row> coarser = base.groupBy(groupColumns(view, functions.date_trunc(level.id(), col("bucket")).as("bucket")))
                    .agg(rollups.get(0), rollups.subList(1, rollups.size()).toArray(Column[]::new));
            all = all.unionByName(withLevel(coarser, view, level));
        }
        return all;
    }

    private static Dataset<Row> withLevel(Dataset<Row> rows, ViewDefinition view, Granularity level) {
        List<Column> out = new ArrayList<>();
        out.add(lit(level.id()).as("level"));
        out.add(col("bucket"));
        List<Column> dims = new ArrayList<>();
        for (int d = 0; d < view.dimensions().size(); d++) {
            dims.add(col("d" + d));
        }
        out.add((dims.isEmpty() ? functions.array().cast("array<string>") : functions.array(dims.toArray(Column[]::new))).as("dims"));
        for (int i = 0; i < view.metrics().size(); i++) {
            out.add(col(metricColumn(i)));
        }
        return rows.select(out.toArray(Column[]::new));
    }

    private static List<Column> dimensionColumns(ViewDefinition view) {
        List<Column> dims = new ArrayList<>();
        for (int d = 0; d < view.dimensions().size(); d++) {
            dims.add(functions.coalesce(col("attrs").getItem(view.dimensions().get(d)), lit("")).as("d" + d));
        }
        return dims;
    }

    private static Column[] groupColumns(ViewDefinition view, Column bucket) {
        List<Column> group = new ArrayList<>();
        group.add(bucket);
        for (int d = 0; d < view.dimensions().size(); d++) {
            group.add(col("d" + d));
        }
        return group.toArray(Column[]::new);
    }

    private static Column metricInput(MetricSpec metric) {
        if (metric.field() == null) {
            return lit(null).cast(DataTypes.StringType);
        }
        Column text = col("attrs").getItem(metric.field());
        if (!metric.type().isDecimal()) {
            return text;
        }
        int scale = metric.scale();
        UDF1<String, BigDecimal> parse = t -> DecimalInput.parse(t, scale);
        return functions.udf(parse, DataTypes.createDecimalType(DecimalInput.MAX_PRECISION, scale)).apply(text);
    }
}
