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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * the speed layer's sketch). Every level is aggregated straight from the events, as the speed layer
 * folds each event into every level: each event is repeated once per level with that level's
 * bucket, and one aggregation groups them all. (Rolling coarser levels up from the base level
 * instead made Spark aggregate the base level again for every coarser one.)
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
        List<Column> atEveryLevel = new ArrayList<>(List.of(functions.explode(levelBuckets(view)).as("at")));
        List<Column> key = new ArrayList<>(List.of(col("at.bucket"), col("at.level")));
        List<Column> dims = new ArrayList<>();
        for (int d = 0; d < view.dimensions().size(); d++) {
            atEveryLevel.add(col("d" + d));
            key.add(col("d" + d));
            dims.add(col("d" + d));
        }
        for (int i = 0; i < view.metrics().size(); i++) {
            atEveryLevel.add(col("in" + i));
        }
        // A hash of the whole key leads the grouping: a distinct-count sketch makes Spark aggregate by sorting,
        // and its sort compares an 8-byte prefix of the first grouping column before whole rows.
        // A level's name or a coarse bucket would tie most comparisons; the hash nearly never does.
        List<Column> group = new ArrayList<>(List.of(functions.xxhash64(key.toArray(Column[]::new)).as("key_hash"),
                col("at.bucket").as("bucket"), col("at.level").as("level")));
        group.addAll(dims);
        List<Column> aggs = aggregates(view.metrics());
        // dimensions and metric inputs are read once per event, then the event is repeated at every level
        Dataset<Row> all = events.filter(col("event_type").isin(view.events().toArray()))
                .select(inputs(view).toArray(Column[]::new))
                .select(atEveryLevel.toArray(Column[]::new))
                .groupBy(group.toArray(Column[]::new))
                .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));

        List<Column> out = new ArrayList<>(List.of(col("level"), col("bucket")));
        out.add((dims.isEmpty() ? functions.array().cast("array<string>") : functions.array(dims.toArray(Column[]::new))).as("dims"));
        for (int i = 0; i < view.metrics().size(); i++) {
            out.add(col(metricColumn(i)));
        }
        return all.select(out.toArray(Column[]::new));
    }

    /** An array of (level, bucket of the event at that level), one per level of the view. */
    private static Column levelBuckets(ViewDefinition view) {
        List<Column> levelBuckets = new ArrayList<>();
        for (Granularity level : view.levels()) {
            levelBuckets.add(functions.struct(lit(level.id()).as("level"), functions.date_trunc(level.id(), col("event_ts")).as("bucket")));
        }
        return functions.array(levelBuckets.toArray(Column[]::new));
    }

    /** An event's time, its dimensions {@code d*} and its metric inputs {@code in*}. */
    private static List<Column> inputs(ViewDefinition view) {
        List<Column> inputs = new ArrayList<>(List.of(col("event_ts")));
        inputs.addAll(dimensionColumns(view));
        Map<String, Column> readOnce = new HashMap<>(); // sales' revenue, smallest and biggest parse one amount
        for (int i = 0; i < view.metrics().size(); i++) {
            MetricSpec metric = view.metrics().get(i);
            if (metric.field() == null) {
                inputs.add(lit(null).cast(DataTypes.StringType).as("in" + i));
                continue;
            }
            String input = metric.field() + (metric.type().isDecimal() ? " as decimal of scale " + metric.scale() : " as text");
            inputs.add(readOnce.computeIfAbsent(input, k -> metricInput(metric)).as("in" + i));
        }
        return inputs;
    }

    private static List<Column> aggregates(List<MetricSpec> metrics) {
        List<Column> aggs = new ArrayList<>();
        for (int i = 0; i < metrics.size(); i++) {
            Column in = col("in" + i);
            aggs.add((switch (metrics.get(i).type()) {
                case COUNT -> functions.count(lit(1));
                case SUM -> functions.sum(in);
                case MIN -> functions.min(in);
                case MAX -> functions.max(in);
                case DISTINCT -> functions.hll_sketch_agg(in, MetricValue.Distinct.LG_K);
            }).as(metricColumn(i)));
        }
        return aggs;
    }

    private static List<Column> dimensionColumns(ViewDefinition view) {
        List<Column> dims = new ArrayList<>();
        for (int d = 0; d < view.dimensions().size(); d++) {
            dims.add(functions.coalesce(col("attrs").getItem(view.dimensions().get(d)), lit("")).as("d" + d));
        }
        return dims;
    }

    private static Column metricInput(MetricSpec metric) {
        Column text = col("attrs").getItem(metric.field());
        if (!metric.type().isDecimal()) {
            return text;
        }
        int scale = metric.scale();
        UDF1<String, BigDecimal> parse = t -> DecimalInput.parse(t, scale);
        return functions.udf(parse, DataTypes.createDecimalType(DecimalInput.MAX_PRECISION, scale)).apply(text);
    }
}
