package dev.lambda.common.view;

import java.util.Objects;

/**
 * One metric of a view as declared in the views file.
 *
 * @param name  column name in answers
 * @param type  metric type
 * @param field the attribute it reads; {@code null} for count
 * @param scale decimal places kept for sum/min/max (values are rounded half-up to it, as Spark's
 *              decimal cast does); 0 for count and distinct
 */
public record MetricSpec(String name, MetricType type, String field, int scale) implements java.io.Serializable {

    public static final int MAX_SCALE = 18;

    public MetricSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (type.needsField() != (field != null)) {
            throw new IllegalArgumentException(type.id() + " metric " + name
                    + (type.needsField() ? " needs a field" : " takes no field"));
        }
        if (scale < 0 || scale > MAX_SCALE || (!type.isDecimal() && scale != 0)) {
            throw new IllegalArgumentException("metric " + name + ": bad scale " + scale);
        }
    }
}
