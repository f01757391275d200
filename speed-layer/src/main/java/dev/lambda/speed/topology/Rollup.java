package dev.lambda.speed.topology;

import dev.lambda.common.event.Event;
import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.view.MetricSpec;
import dev.lambda.common.view.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.Union;

/**
 * The aggregate of one key of an open slot, held in memory and updated in place. For a coarser
 * level (hour, day, ...) it is all there is: coarser levels are sums of the base level, so they
 * need not be in the state store, and are rebuilt from the base aggregates there when a task
 * starts. A base-level one goes into the store once per commit. In place matters because a key
 * takes many events and its distinct-count sketch grows large: copying and serializing it per
 * event was most of the speed layer's work.
 *
 * <p>Same semantics as {@link Aggregate#add}: {@link #snapshot()} equals folding the same events
 * into {@link Aggregate#zero}. Not thread-safe; one task's thread owns it.
 */
final class Rollup {

    private final List<MetricSpec> metrics;
    /** Count, sum, min and max values; {@code null} where the metric is a sketch. */
    private final MetricValue[] values;
    /** Distinct-count sketches, updated in place; {@code null} where the metric is not one. */
    private final HllSketch[] sketches;
    private long latestIngest = Long.MIN_VALUE;

    Rollup(ViewDefinition view) {
        this(view, new SlotAggregate(Aggregate.zero(view), Long.MIN_VALUE, -1));
    }

    /** Starting from {@code start} (a base-level aggregate as the store has it), sketches copied. */
    Rollup(ViewDefinition view, SlotAggregate start) {
        this.metrics = view.metrics();
        this.values = new MetricValue[metrics.size()];
        this.sketches = new HllSketch[metrics.size()];
        for (int i = 0; i < metrics.size(); i++) {
            if (start.aggregate().get(i) instanceof MetricValue.Distinct d) {
                sketches[i] = d.sketch().isEmpty() ? new HllSketch(MetricValue.Distinct.LG_K, MetricValue.Distinct.TYPE) : d.sketch().copy();
            } else {
                values[i] = start.aggregate().get(i);
            }
        }
        this.latestIngest = start.latestIngest();
    }

    /** Folds one event in. */
    void add(Event event, long ingest) {
        add(event, ingest, i -> { });
    }

    /**
     * Folds one event in, telling {@code unusable} the index of each sum/min/max metric whose field
     * the event has but whose text is no usable number (it adds nothing, as {@link Aggregate#add}).
     */
    void add(Event event, long ingest, IntConsumer unusable) {
        for (int i = 0; i < values.length; i++) {
            MetricSpec m = metrics.get(i);
            String input = m.field() == null ? null : event.attr(m.field());
            if (sketches[i] != null) {
                if (input != null && !input.isEmpty()) {
                    sketches[i].update(input);
                }
            } else if (values[i] instanceof MetricValue.Count c) {
                values[i] = new MetricValue.Count(c.count() + 1);
            } else {
                MetricValue one = Aggregate.single(m, input);
                if (one.read() == null && input != null && !input.isEmpty()) {
                    unusable.accept(i);
                }
                values[i] = values[i].plus(one);
            }
        }
        latestIngest = Math.max(latestIngest, ingest);
    }

    /** Adds a whole aggregate of the same view (a base-level one, when a task rebuilds its rollups). */
    void add(SlotAggregate other) {
        Aggregate aggregate = other.aggregate();
        for (int i = 0; i < values.length; i++) {
            if (sketches[i] != null) {
                HllSketch o = ((MetricValue.Distinct) aggregate.get(i)).sketch();
                if (!o.isEmpty()) {
                    Union union = new Union(MetricValue.Distinct.LG_K);
                    union.update(sketches[i]);
                    union.update(o);
                    sketches[i] = union.getResult(MetricValue.Distinct.TYPE);
                }
            } else {
                values[i] = values[i].plus(aggregate.get(i));
            }
        }
        latestIngest = Math.max(latestIngest, other.latestIngest());
    }

    /** The value now, as an immutable aggregate (sketches copied: this one goes on changing), with no position. */
    SlotAggregate snapshot() {
        return snapshot(-1);
    }

    /** The value now, reflecting the input before {@code position}. */
    SlotAggregate snapshot(long position) {
        return value(position, true);
    }

    /**
     * The value now, reflecting the input before {@code position}, with this rollup's own sketches
     * in it, not copies: valid only until the next change, for a caller that serializes it at once.
     */
    SlotAggregate sharingSketches(long position) {
        return value(position, false);
    }

    private SlotAggregate value(long position, boolean copySketches) {
        List<MetricValue> out = new ArrayList<>(values.length);
        for (int i = 0; i < values.length; i++) {
            if (sketches[i] == null) {
                out.add(values[i]);
            } else if (sketches[i].isEmpty()) {
                out.add(MetricValue.Distinct.EMPTY);
            } else {
                out.add(new MetricValue.Distinct(copySketches ? sketches[i].copy() : sketches[i]));
            }
        }
        return new SlotAggregate(new Aggregate(out), latestIngest, position);
    }
}
