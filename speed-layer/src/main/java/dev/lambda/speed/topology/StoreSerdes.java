package dev.lambda.speed.topology;

import dev.lambda.common.metric.Aggregate;
import dev.lambda.common.metric.MetricValue;
import dev.lambda.common.time.Granularity;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary formats of the speed layer's state store and changelog. Aggregates are self-describing
 * (a tag per metric), so one store holds every view. Format version byte first, so a later release
 * still reads what a running application left behind: values of format 1 have no input position.
 */
final class StoreSerdes {

    private static final byte FORMAT = 1;
    private static final byte VALUE_FORMAT = 2;
    private static final byte COUNT = 1;
    private static final byte SUM = 2;
    private static final byte MIN = 3;
    private static final byte MAX = 4;
    private static final byte DISTINCT = 5;

    private StoreSerdes() {
    }

    static Serde<AggregateKey> keySerde() {
        return Serdes.serdeFrom(encoder(StoreSerdes::writeKey), decoder(StoreSerdes::readKey));
    }

    static Serde<SlotAggregate> valueSerde() {
        return Serdes.serdeFrom(encoder(StoreSerdes::writeValue), decoder(StoreSerdes::readValue));
    }

    private static void writeKey(AggregateKey k, DataOutputStream out) throws IOException {
        // the hash first: the store cache keeps keys sorted, and keys that share a long prefix
        // (same view, version, level, bucket) make every comparison walk that prefix
        // (enum hash codes differ between JVMs, so the level goes in by ordinal: stored keys must be stable)
        out.writeInt(Objects.hash(k.view(), k.version(), k.level().ordinal(), k.bucket(), k.dims(), k.slot()));
        out.writeByte(FORMAT);
        out.writeUTF(k.view());
        out.writeUTF(k.version());
        out.writeByte(k.level().ordinal());
        out.writeLong(k.bucket());
        out.writeLong(k.slot());
        out.writeShort(k.dims().size());
        for (String d : k.dims()) {
            out.writeUTF(d);
        }
    }

    private static AggregateKey readKey(DataInputStream in) throws IOException {
        in.readInt();
        checkFormat(in.readByte());
        String view = in.readUTF();
        String version = in.readUTF();
        Granularity level = Granularity.values()[in.readByte()];
        long bucket = in.readLong();
        long slot = in.readLong();
        int n = in.readShort();
        List<String> dims = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            dims.add(in.readUTF());
        }
        return new AggregateKey(view, version, level, bucket, dims, slot);
    }

    private static void writeValue(SlotAggregate v, DataOutputStream out) throws IOException {
        out.writeByte(VALUE_FORMAT);
        out.writeLong(v.latestIngest());
        out.writeLong(v.position());
        List<MetricValue> values = v.aggregate().values();
        out.writeShort(values.size());
        for (MetricValue value : values) {
            if (value instanceof MetricValue.Count c) {
                out.writeByte(COUNT);
                out.writeLong(c.count());
            } else if (value instanceof MetricValue.Distinct d) {
                out.writeByte(DISTINCT);
                byte[] bytes = d.sketch().isEmpty() ? new byte[0] : d.toBytes();
                out.writeInt(bytes.length);
                out.write(bytes);
            } else {
                out.writeByte(value instanceof MetricValue.Sum ? SUM : value instanceof MetricValue.Min ? MIN : MAX);
                writeDecimal((BigDecimal) value.read(), out);
            }
        }
    }

    private static SlotAggregate readValue(DataInputStream in) throws IOException {
        byte format = in.readByte();
        if (format != VALUE_FORMAT) {
            checkFormat(format);
        }
        long latestIngest = in.readLong();
        long position = format == VALUE_FORMAT ? in.readLong() : -1;
        int n = in.readShort();
        List<MetricValue> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte tag = in.readByte();
            values.add(switch (tag) {
                case COUNT -> new MetricValue.Count(in.readLong());
                case SUM -> new MetricValue.Sum(readDecimal(in));
                case MIN -> new MetricValue.Min(readDecimal(in));
                case MAX -> new MetricValue.Max(readDecimal(in));
                case DISTINCT -> {
                    byte[] bytes = new byte[in.readInt()];
                    in.readFully(bytes);
                    yield bytes.length == 0 ? MetricValue.Distinct.EMPTY : MetricValue.Distinct.fromBytes(bytes);
                }
                default -> throw new IOException("unknown metric tag " + tag);
            });
        }
        return new SlotAggregate(new Aggregate(values), latestIngest, position);
    }

    private static void writeDecimal(BigDecimal d, DataOutputStream out) throws IOException {
        out.writeBoolean(d != null);
        if (d != null) {
            out.writeInt(d.scale());
            byte[] unscaled = d.unscaledValue().toByteArray();
            out.writeShort(unscaled.length);
            out.write(unscaled);
        }
    }

    private static BigDecimal readDecimal(DataInputStream in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        int scale = in.readInt();
        byte[] unscaled = new byte[in.readShort()];
        in.readFully(unscaled);
        return new BigDecimal(new BigInteger(unscaled), scale);
    }

    private static void checkFormat(byte format) throws IOException {
        if (format != FORMAT) {
            throw new IOException("unknown speed-store format " + format);
        }
    }

    private interface Writer<T> {
        void write(T value, DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static <T> Serializer<T> encoder(Writer<T> writer) {
        return (topic, value) -> {
            if (value == null) {
                return null;
            }
            Buffer bytes = new Buffer();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                writer.write(value, out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        };
    }

    /**
     * A growing byte array, as {@link java.io.ByteArrayOutputStream} but without its locking: a
     * {@link DataOutputStream} writes most fields a byte at a time, and each of those took a lock.
     */
    private static final class Buffer extends OutputStream {
        private byte[] bytes = new byte[128];
        private int size;

        @Override
        public void write(int b) {
            if (size == bytes.length) {
                bytes = Arrays.copyOf(bytes, bytes.length * 2);
            }
            bytes[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            Objects.checkFromIndexSize(off, len, b.length);
            if (size + len > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + len));
            }
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, size);
        }
    }

    private static <T> Deserializer<T> decoder(Reader<T> reader) {
        return (topic, data) -> {
            if (data == null) {
                return null;
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                return reader.read(in);
            } catch (IOException e) {
                throw new UncheckedIOException("corrupt speed-store record", e);
            }
        };
    }
}
