package dev.lambda.batch.ingest;

import static org.apache.spark.sql.functions.col;

import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.event.Event;
import dev.lambda.common.event.ParseResult;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
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
 * time and attributes, and the version of the parser that read them. Rejected records are kept,
 * flagged. Attributes are stored in name order, so a value parsed again (in any JVM, whatever order
 * its JSON lists them in) gives the same bytes: the generation's fingerprint hashes them as stored.
 */
public final class EnvelopeColumns {

    public static final StructType TYPE = new StructType()
            .add("valid", DataTypes.BooleanType, false)
            .add("reject_reason", DataTypes.StringType, true)
            .add("reject_detail", DataTypes.StringType, true)
            .add("event_id", DataTypes.StringType, true)
            .add("event_type", DataTypes.StringType, true)
            .add("event_ts", DataTypes.TimestampType, true)
            .add("attrs", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType), true)
            .add("parser_version", DataTypes.IntegerType, false);

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

    /**
     * Master rows with their envelope columns as this release's parser reads them: rows archived
     * under another {@link EnvelopeParser#VERSION} (or none: releases before it was recorded) are
     * parsed again from their raw value and ingest time; the others are taken as stored. Other
     * columns pass through.
     *
     * <p>Runs one job over the parser-version column: when every row is of this version, the
     * result is {@code master} as it is, so its readers never read the raw values.
     */
    public static Dataset<Row> current(Dataset<Row> master, Duration futureTolerance) {
        if (master.filter(functions.not(upToDate())).isEmpty()) {
            return master;
        }
        return parsedAgain(master, futureTolerance);
    }

    /** Whether a row was archived by this release's parser (a row of a release that recorded no version was not). */
    private static Column upToDate() {
        return col("parser_version").eqNullSafe(EnvelopeParser.VERSION);
    }

    private static Dataset<Row> parsedAgain(Dataset<Row> master, Duration futureTolerance) {
        Column stored = functions.struct(NAMES.stream().map(functions::col).toArray(Column[]::new));
        Column envelope = functions.when(upToDate(), stored).otherwise(parse(col("value"), col("ingest_ts"), futureTolerance));
        List<Column> out = new ArrayList<>();
        for (String name : master.columns()) {
            out.add(NAMES.contains(name) ? envelope.getField(name).as(name) : col(name));
        }
        return master.select(out.toArray(Column[]::new));
    }

    private static Row toRow(ParseResult result) {
        if (result instanceof ParseResult.Rejected r) {
            return RowFactory.create(false, r.reason().code(), r.detail(), null, null, null, null, EnvelopeParser.VERSION);
        }
        Event e = ((ParseResult.Valid) result).event();
        return RowFactory.create(true, null, null, e.id(), e.type(), Timestamp.from(e.ts()),
                CollectionConverters.asScala(new TreeMap<>(e.attrs())), EnvelopeParser.VERSION);
    }
}
