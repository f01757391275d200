package dev.lambda.batch.ingest;

import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.event.Event;
import dev.lambda.common.event.ParseResult;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Parses raw record values with the shared envelope parser (the speed layer's parser) inside Spark,
 * into the master dataset's envelope columns: valid flag, reject reason and detail, id, type, event
 * time and attributes. Rejected records are kept, flagged.
 */
public final class EnvelopeColumns {

    public static final StructType TYPE = new StructType()
            .add("valid", DataTypes.BooleanType, false)
            .add("reject_reason", DataTypes.StringType, true)
            .add("reject_detail", DataTypes.StringType, true)
            .add("event_id", DataTypes.StringType, true)
            .add("event_type", DataTypes.StringType, true)
            .add("event_ts", DataTypes.TimestampType, true)
            .add("attrs", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType), true);

    /** The envelope columns, in order, after {@link #parse} was expanded with {@code envelope.*}. */
    public static final List<String> NAMES = List.of(TYPE.fieldNames());

    private EnvelopeColumns() {
    }

    /** A struct column parsed from a binary value column and the record's ingest timestamp. */
    public static Column parse(Column value, Column ingestTs, Duration futureTolerance) {
        long tolerance = futureTolerance.toMillis();
        UDF2<byte[], Timestamp, Row> parse = (bytes, ingest) -> toRow(new EnvelopeParser(Duration.ofMillis(tolerance))
                .parse(bytes, ingest.getTime()));
        UserDefinedFunction udf = functions.udf(parse, TYPE);
        return udf.apply(value, ingestTs);
    }

    private static Row toRow(ParseResult result) {
        if (result instanceof ParseResult.Rejected r) {
            return RowFactory.create(false, r.reason().code(), r.detail(), null, null, null, null);
        }
        Event e = ((ParseResult.Valid) result).event();
        return RowFactory.create(true, null, null, e.id(), e.type(), Timestamp.from(e.ts()),
                CollectionConverters.asScala(e.attrs()));
    }
}
