package dev.lambda.common.metric;

import dev.lambda.common.event.Event;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import java.util.ArrayList;
import java.util.List;

/**
 * All metrics of one view for one key (bucket, dimensions, and slot in the speed layer), in the
 * view's metric order. {@link #plus} adds metric by metric; {@link #zero} is its identity.
 */
public record Aggregate(List<MetricValue> values) {

    public Aggregate {
        values = List.copyOf(values);
    }

    /** The empty aggregate of a view: no events. */
    public static Aggregate zero(ViewDefinition view) {
        List<MetricValue> values = new ArrayList<>(view.metrics().size());
        for (MetricSpec m : view.metrics()) {
            values.add(switch (m.type()) {
                case COUNT -> MetricValue.Count.ZERO;
                case SUM -> MetricValue.Sum.EMPTY;
                case MIN -> MetricValue.Min.EMPTY;
                case MAX -> MetricValue.Max.EMPTY;
                case DISTINCT -> MetricValue.Distinct.EMPTY;
            });
        }
        return new Aggregate(values);
    }

    /** The aggregate of a single event that feeds the view. */
    public static Aggregate of(ViewDefinition view, Event event) {
        List<MetricValue> values = new ArrayList<>(view.metrics().size());
        for (MetricSpec m : view.metrics()) {
            String input = m.field() == null ? null : event.attr(m.field());
            values.add(switch (m.type()) {
                case COUNT -> new MetricValue.Count(1);
                case SUM, MIN, MAX -> single(m, input);
                case DISTINCT -> input == null ? MetricValue.Distinct.EMPTY : MetricValue.Distinct.of(input);
            });
        }
        return new Aggregate(values);
    }

    /**
     * This aggregate with one more event folded in: the same as {@code plus(of(view, event))}, but a
     * sketch takes the value directly instead of going through a union, which matters when the
     * speed layer folds every event into sketches that are already large.
     */
    public Aggregate add(ViewDefinition view, Event event) {
        List<MetricSpec> metrics = view.metrics();
        List<MetricValue> next = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            MetricSpec m = metrics.get(i);
            MetricValue current = values.get(i);
            String input = m.field() == null ? null : event.attr(m.field());
            next.add(switch (m.type()) {
                case COUNT -> new MetricValue.Count(((MetricValue.Count) current).count() + 1);
                case DISTINCT -> input == null || input.isEmpty() ? current : ((MetricValue.Distinct) current).with(input);
                case SUM, MIN, MAX -> current.plus(single(m, input));
            });
        }
        return new Aggregate(next);
    }

    /** The value one event's attribute adds to a sum, min or max metric (empty when the text is not a number). */
    public static MetricValue single(MetricSpec m, String input) {
        return switch (m.type()) {
            case SUM -> new MetricValue.Sum(DecimalInput.parse(input, m.scale()));
            case MIN -> new MetricValue.Min(DecimalInput.parse(input, m.scale()));
            case MAX -> new MetricValue.Max(DecimalInput.parse(input, m.scale()));
            default -> throw new IllegalArgumentException(m.type() + " is not a decimal metric");
        };
    }

    public Aggregate plus(Aggregate other) {
        if (other.values.size() != values.size()) {
            throw new IllegalArgumentException("aggregates of different views: " + values.size() + " vs " + other.values.size() + " metrics");
        }
        List<MetricValue> sum = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            sum.add(values.get(i).plus(other.values.get(i)));
        }
        return new Aggregate(sum);
    }

    /**
     * The sum of many aggregates of one view: the same as folding them with {@link #plus}, but each
     * sketch metric goes through a single union instead of one union (and one result copy) per pair,
     * which is what makes merging thousands of rows in a query cheap.
     */
    public static Aggregate sum(List<Aggregate> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        Aggregate first = parts.get(0);
        List<MetricValue> sum = new ArrayList<>(first.values.size());
        for (int i = 0; i < first.values.size(); i++) {
            if (first.values.get(i) instanceof MetricValue.Distinct) {
                org.apache.datasketches.hll.Union union = new org.apache.datasketches.hll.Union(MetricValue.Distinct.LG_K);
                for (Aggregate part : parts) {
                    union.update(((MetricValue.Distinct) part.values.get(i)).sketch());
                }
                sum.add(new MetricValue.Distinct(union.getResult(MetricValue.Distinct.TYPE)));
            } else {
                MetricValue total = first.values.get(i);
                for (int p = 1; p < parts.size(); p++) {
                    total = total.plus(parts.get(p).values.get(i));
                }
                sum.add(total);
            }
        }
        return new Aggregate(sum);
    }

    public MetricValue get(int metricIndex) {
        return values.get(metricIndex);
    }
}
