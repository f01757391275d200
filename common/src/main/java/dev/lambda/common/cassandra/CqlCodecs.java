package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.type.codec.TypeCodec;
import com.datastax.oss.driver.api.core.type.codec.TypeCodecs;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Codecs of the collection columns the row tables write and read, built once. Bound by value
 * ({@code PreparedStatement.bind(Object...)}) or read by Java classes ({@code getMap(name,
 * String.class, Long.class)}), a collection makes the driver build its generic type by reflection
 * at every call: in a profile of the speed layer under load that was a third of its stream
 * threads' time, more than the rest of a flush. A frozen collection is encoded as an unfrozen one.
 * Setting or getting with a codec skips the driver's check of the column's type, so these must
 * follow {@link CassandraSchema}'s columns ({@code CassandraTablesIT} writes and reads each back).
 */
final class CqlCodecs {

    /** {@code dims}: {@code frozen<list<text>>}. */
    static final TypeCodec<List<String>> TEXTS = TypeCodecs.listOf(TypeCodecs.TEXT);
    /** {@code counts} and {@code dead_letters}: {@code frozen<map<text, bigint>>}. */
    static final TypeCodec<Map<String, Long>> COUNTS = TypeCodecs.mapOf(TypeCodecs.TEXT, TypeCodecs.BIGINT);
    /** {@code decimals}: {@code frozen<map<text, decimal>>}. */
    static final TypeCodec<Map<String, BigDecimal>> DECIMALS = TypeCodecs.mapOf(TypeCodecs.TEXT, TypeCodecs.DECIMAL);
    /** {@code sketches}: {@code frozen<map<text, blob>>}. */
    static final TypeCodec<Map<String, ByteBuffer>> SKETCHES = TypeCodecs.mapOf(TypeCodecs.TEXT, TypeCodecs.BLOB);

    /** {@code view_versions}: {@code frozen<map<text, timestamp>>}. */
    static final TypeCodec<Map<String, Instant>> SINCE = TypeCodecs.mapOf(TypeCodecs.TEXT, TypeCodecs.TIMESTAMP);

    private CqlCodecs() {
    }
}
