package dev.lambda.speed.bench;

import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.common.event.EnvelopeParser;
import dev.lambda.common.event.ParseResult;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewCatalogLoader;
import dev.lambda.speed.SpeedLayer;
import dev.lambda.speed.config.SpeedConfig;
import dev.lambda.speed.sink.SpeedRowSink;
import dev.lambda.speed.topology.StreamsCeiling;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Queue;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Speed-layer benchmark on real servers (not a test): throughput end to end (until rows are in
 * Cassandra) against a plain consumer that only reads and parses the same topic, in the same run;
 * then produce → flushed latency at a fixed rate, measured after a warm-up at that rate
 * ({@code -Dbench.warmupSeconds}, default 60; the worst latency of every 5 s, warm-up included, is
 * printed too). Prints figures; asserts nothing.
 *
 * <p>Run: {@code mvn -pl speed-layer -am verify -DskipTests -Pbench -Dbench.events=2000000 -Dbench.rate=20000}
 */
public final class SpeedBenchmark {

    private static final int PARTITIONS = 4;

    public static void main(String[] args) throws Exception {
        int events = Integer.getInteger("bench.events", 2_000_000);
        int rate = Integer.getInteger("bench.rate", 20_000);
        int latencySeconds = Integer.getInteger("bench.latencySeconds", 30);
        // on two cores shared by three fresh JVMs the first ~40 s at the rate are a warm-up (JIT, Cassandra's
        // write path, first rows of every key): 15 s let that tail set the figures
        int warmupSeconds = Integer.getInteger("bench.warmupSeconds", 60);
        if (latencySeconds == 0) {
            rate = 0;
        }
        int threads = Integer.getInteger("bench.threads", 2);
        boolean inMemory = Boolean.getBoolean("bench.inMemoryState");
        // profiling aid: a sink that drops rows shows what the topology alone can do
        boolean nullSink = Boolean.getBoolean("bench.nullSink");
        String attrs = System.getProperty("bench.attrs", "uniform");
        if (!List.of("uniform", "skewed").contains(attrs)) {
            throw new IllegalArgumentException("-Dbench.attrs must be uniform or skewed, got \"" + attrs + "\"");
        }
        Path data = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bench-");
        ViewCatalog views = new ViewCatalogLoader().load(Path.of("..", "config", "views.yml"));
        System.out.printf("speed-layer benchmark: %,d events, %d partitions, %d stream threads, %s state, %s sink, %s attributes, %d cores%n",
                events, PARTITIONS, threads, inMemory ? "in-memory" : "RocksDB", nullSink ? "null" : "Cassandra",
                attrs, Runtime.getRuntime().availableProcessors());
        try (LocalCluster cluster = LocalCluster.start(data, 0, 0, 1, false)) {
            String topic = "bench_events";
            createTopic(cluster, topic);
            createTopic(cluster, "bench_latency");

            long t0 = System.nanoTime();
            produceAll(cluster, topic, events);
            double produceSecs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("produce:        %,10.0f events/s (%,d in %.1f s)%n", events / produceSecs, events, produceSecs);

            double plainRate = plainConsumerRate(cluster, topic, events);
            System.out.printf("plain consumer: %,10.0f events/s (read + parse only)%n", plainRate);

            FlushLog flushes = new FlushLog();
            long start = System.nanoTime();
            try (SpeedLayer layer = SpeedLayer.start(config(cluster, topic, data.resolve("state-throughput"), threads, inMemory), views,
                    sink -> flushes.wrap(nullSink ? (rows, writeTime) -> 0L : sink))) {
                while (layer.metrics().eventsIn() < events) {
                    Thread.sleep(20);
                }
                long allRead = System.nanoTime();
                long flushed = awaitFlushed(layer, events);
                double secs = (flushed - start) / 1e9;
                double speedRate = events / secs;
                System.out.printf("speed layer:    %,10.0f events/s end to end (start -> every record flushed, %.1f s; all read after %.1f s), %,d rows written%n",
                        speedRate, secs, (allRead - start) / 1e9, layer.metrics().rowsFlushed());
                System.out.printf("ratio speed/plain consumer: %.2f%n", speedRate / plainRate);
                System.out.println("  " + flushes.summary() + "; flushes held back for the backlog: "
                        + layer.metrics().flushesHeldBack());
            }

            if (!"false".equals(System.getProperty("bench.ceiling"))) {
                // what Kafka Streams itself reaches here with the layer's settings, measured after the
                // layer ran (a JVM's first Streams application runs at half speed while the JIT warms up):
                // the same records through a processor that only parses, then one that also keeps the
                // ids in a dedup store of the layer's kind and window
                for (boolean dedup : new boolean[] {false, true}) {
                    SpeedConfig c = config(cluster, topic, data.resolve("state-ceiling-" + dedup), threads, inMemory);
                    double ceiling = StreamsCeiling.rate(c, topic, events, dedup);
                    System.out.printf("kafka streams:  %,10.0f events/s (exactly-once, the layer's settings; parse%s, no aggregation)%n",
                            ceiling, dedup ? " + dedup store" : " only");
                }
            }

            if (rate == 0) {
                return;
            }
            FlushLog latencyFlushes = new FlushLog();
            try (SpeedLayer layer = SpeedLayer.start(config(cluster, "bench_latency", data.resolve("state-latency"), threads, inMemory),
                    views, sink -> latencyFlushes.wrap(sink))) {
                // the first events are sent once the layer owns every partition: a start's group join and
                // task set-up are not what the latency phase measures (printed, as a restart costs them)
                long joinFrom = System.nanoTime();
                while (layer.state() != KafkaStreams.State.RUNNING) {
                    if (System.nanoTime() - joinFrom > TimeUnit.MINUTES.toNanos(2)) {
                        throw new IllegalStateException("the layer is " + layer.state() + " 2 min after its start, not RUNNING");
                    }
                    Thread.sleep(20);
                }
                System.out.printf("latency phase: the layer was running %.1f s after its start%n", (System.nanoTime() - joinFrom) / 1e9);
                // the first seconds at the rate warm up the JIT, Cassandra and the flush pacing: shown, not counted
                NavigableMap<Long, Long> heldBack = new ConcurrentSkipListMap<>(); // wall-clock ms -> the layer's count then
                ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "held-back-sampler");
                    t.setDaemon(true);
                    return t;
                });
                List<long[]> all;
                try {
                    sampler.scheduleAtFixedRate(() -> heldBack.put(System.currentTimeMillis(), layer.metrics().flushesHeldBack()),
                            0, 100, TimeUnit.MILLISECONDS);
                    all = produceAtRate(cluster, "bench_latency", rate, warmupSeconds + latencySeconds);
                } finally {
                    sampler.shutdownNow();
                }
                // every event's latency, however far behind the layer fell (a pause in flushes is no sign of the
                // end); counted by sends attempted, so one that failed makes it give up naming the partition
                awaitFlushed(layer, rate * (warmupSeconds + latencySeconds));
                long[] allLatencies = latencyFlushes.latencies(all);
                System.out.println("  " + byWindow(all, allLatencies, 5_000));
                long measuredFrom = all.get(0)[2] + warmupSeconds * 1000L;
                int[] measured = IntStream.range(0, all.size()).filter(i -> all.get(i)[2] >= measuredFrom).toArray();
                long[] latencies = Arrays.stream(measured).mapToLong(i -> allLatencies[i]).sorted().toArray();
                System.out.printf("latency at %,d events/s for %d s after %d s of warm-up (produce -> row in Cassandra): p50 %d ms, p99 %d ms,"
                        + " max %d ms (%,d events)%n", rate, latencySeconds, warmupSeconds, pct(latencies, 0.50), pct(latencies, 0.99),
                        latencies[latencies.length - 1], latencies.length);
                // the broker's append time splits each latency: send -> appended (producer and broker), then
                // appended -> row in Cassandra (the layer)
                long[] produced = Arrays.stream(measured).mapToLong(i -> all.get(i)[1] - all.get(i)[2]).sorted().toArray();
                long[] layered = Arrays.stream(measured).mapToLong(i -> allLatencies[i] - (all.get(i)[1] - all.get(i)[2])).sorted().toArray();
                System.out.printf("  of which send -> appended by the broker: p50 %d p99 %d max %d ms; appended -> row in Cassandra: p50 %d"
                        + " p99 %d max %d ms%n", pct(produced, 0.50), pct(produced, 0.99), produced[produced.length - 1], pct(layered, 0.50),
                        pct(layered, 0.99), layered[layered.length - 1]);
                long lastSent = all.stream().mapToLong(e -> e[2]).max().orElseThrow();
                long heldBackInWarmUp = countAt(heldBack, measuredFrom);
                System.out.println("  " + latencyFlushes.summary());
                System.out.println("  " + latencyFlushes.cadence(measuredFrom) + "; flushes held back for a backlog: " + heldBackInWarmUp
                        + " in the warm-up, " + (countAt(heldBack, lastSent) - heldBackInWarmUp) + " while measured");
            }
        }
    }

    /**
     * When the layer reports every partition flushed through its last record (rows and progress in
     * the sink). A pause between flushes is no sign of the end: under load the flushes space out.
     */
    private static long awaitFlushed(SpeedLayer layer, int events) throws InterruptedException {
        long giveUpAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        for (int p = 0; p < PARTITIONS; p++) {
            long end = (events + PARTITIONS - 1 - p) / PARTITIONS; // both producers send event i to partition i % PARTITIONS
            while (layer.metrics().flushedOffset(p) < end) {
                if (System.nanoTime() - giveUpAt > 0) {
                    throw new IllegalStateException("partition " + p + " reported flushed through " + layer.metrics().flushedOffset(p)
                            + " after 10 min, not " + end);
                }
                Thread.sleep(20);
            }
        }
        return System.nanoTime();
    }

    /** The layer's count of held-back flushes as last sampled at or before {@code millis} (0 before the first sample). */
    private static long countAt(NavigableMap<Long, Long> samples, long millis) {
        Map.Entry<Long, Long> at = samples.floorEntry(millis);
        return at == null ? 0 : at.getValue();
    }

    /** The worst latency of the events sent in each window of the run, to tell a stall from a steady tail. */
    private static String byWindow(List<long[]> sent, long[] latencies, long windowMillis) {
        long first = sent.stream().mapToLong(s -> s[2]).min().orElse(0);
        TreeMap<Long, Long> worst = new TreeMap<>();
        for (int i = 0; i < latencies.length; i++) {
            worst.merge((sent.get(i)[2] - first) / windowMillis, latencies[i], Math::max);
        }
        StringBuilder out = new StringBuilder("worst latency per " + windowMillis / 1000 + " s of sending:");
        worst.values().forEach(ms -> out.append(' ').append(ms));
        return out.append(" ms").toString();
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static SpeedConfig config(LocalCluster cluster, String topic, Path state, int threads, boolean inMemory) {
        var c = cluster.cassandra().contactPoint();
        List<String> args = new ArrayList<>(List.of("--bootstrap", cluster.bootstrapServers(), "--topic", topic, "--dlq-topic", "events.dlq",
                "--cassandra", c.getHostString() + ":" + c.getPort(), "--keyspace", "bench", "--views", "../config/views.yml",
                "--application-id", "bench-" + topic, "--state-dir", state.toString(), "--metrics-port", "0",
                "--threads", Integer.toString(threads), "--flush-interval", "200ms"));
        if (inMemory) {
            args.add("--in-memory-state");
        }
        for (String extra : System.getProperty("bench.speedArgs", "").split(" ")) {
            if (!extra.isBlank()) {
                args.add(extra);
            }
        }
        return SpeedConfig.from(SpeedConfig.flags(args.toArray(String[]::new), Map.of()));
    }

    private static void createTopic(LocalCluster cluster, String topic) {
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(topic, PARTITIONS, (short) 1)
                    .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime", TopicConfig.RETENTION_MS_CONFIG, "-1"))));
        }
    }

    /**
     * @param compression lz4 for the bulk load; none at a fixed rate, where batches hold a few
     *                    records each and lz4 allocates its 64 KiB buffers per batch: in this JVM,
     *                    which the layer shares, that was a third of all allocation at 5k events/s
     */
    private static KafkaProducer<byte[], byte[]> producer(LocalCluster cluster, String compression) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.BATCH_SIZE_CONFIG, 262_144,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, compression, ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * Realistic events: page views and purchases over 10k users, 200 pages, 500 products, 40 countries;
     * ~1% re-sent. Pages, products and countries are drawn uniformly, every one as likely as the next
     * (the worst case for the rows a flush writes: most events of a flush land in cells of their own),
     * or, with {@code -Dbench.attrs=skewed}, as the batch benchmark draws them: a few take most of
     * the traffic, as in real traffic (a value's index is the range times a uniform draw raised to the
     * power 3 for pages and products, 2 for countries).
     */
    static final class Realistic {
        private final Random random = new Random(7);
        private final boolean skewed = "skewed".equals(System.getProperty("bench.attrs", "uniform"));
        private final String[] recent = new String[1024];
        private long n;

        byte[] next(long nowMillis) {
            int slot = (int) (n % recent.length);
            if (n > recent.length && random.nextInt(100) == 0) {
                n++;
                return recent[random.nextInt(recent.length)].getBytes(StandardCharsets.UTF_8);
            }
            String ts = Instant.ofEpochMilli(nowMillis - random.nextInt(5_000)).toString();
            String user = "u" + random.nextInt(10_000);
            String country = "C" + pick(40, 2);
            String json = random.nextInt(10) < 7
                    ? "{\"id\":\"pv-" + n + "\",\"type\":\"page_view\",\"ts\":\"" + ts + "\",\"attrs\":{\"user_id\":\"" + user
                        + "\",\"page\":\"/p/" + pick(200, 3) + "\",\"country\":\"" + country + "\",\"referrer\":\"search\"}}"
                    : "{\"id\":\"pu-" + n + "\",\"type\":\"purchase\",\"ts\":\"" + ts + "\",\"attrs\":{\"user_id\":\"" + user
                        + "\",\"product\":\"sku-" + pick(500, 3) + "\",\"country\":\"" + country + "\",\"amount\":\""
                        + (random.nextInt(50_000) + 100) / 100.0 + "\",\"currency\":\"EUR\"}}";
            recent[slot] = json;
            n++;
            return json.getBytes(StandardCharsets.UTF_8);
        }

        /** One of {@code range} values: uniformly, or skewed towards the first ones by {@code power}. */
        private int pick(int range, int power) {
            return skewed ? (int) (Math.pow(random.nextDouble(), power) * range) : random.nextInt(range);
        }
    }

    private static void produceAll(LocalCluster cluster, String topic, int events) {
        Realistic gen = new Realistic();
        long now = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = producer(cluster, "lz4")) {
            for (int i = 0; i < events; i++) {
                producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, gen.next(now + i / 100)));
            }
            producer.flush();
        }
    }

    /** Sends at a fixed rate; returns (partition, append time, send time) per event. */
    private static List<long[]> produceAtRate(LocalCluster cluster, String topic, int rate, int seconds) throws InterruptedException {
        Realistic gen = new Realistic();
        // filled by the producer's thread: a copy-on-write list would copy itself per event, and its
        // garbage (~1 GB/s at 2k events/s) paused the layer in this JVM for 60-200 ms every second
        Queue<long[]> sent = new ConcurrentLinkedQueue<>();
        try (KafkaProducer<byte[], byte[]> producer = producer(cluster, "none")) {
            long start = System.nanoTime();
            long total = (long) rate * seconds;
            for (long i = 0; i < total; i++) {
                long due = start + i * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                long sentAt = System.currentTimeMillis();
                int partition = (int) (i % PARTITIONS);
                producer.send(new ProducerRecord<>(topic, partition, null, gen.next(sentAt)), (meta, error) -> {
                    if (error == null) {
                        sent.add(new long[] {partition, meta.timestamp(), sentAt});
                    }
                });
            }
            producer.flush();
        }
        return new ArrayList<>(sent);
    }

    private static double plainConsumerRate(LocalCluster cluster, String topic, int events) {
        EnvelopeParser parser = new EnvelopeParser(Duration.ofMinutes(5));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                parts.add(new TopicPartition(topic, p));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long start = System.nanoTime();
            long read = 0;
            long valid = 0;
            while (read < events) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    read++;
                    if (parser.parse(r.value(), r.timestamp()) instanceof ParseResult.Valid) {
                        valid++;
                    }
                }
            }
            if (valid == 0) {
                throw new IllegalStateException("nothing parsed");
            }
            return read / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Records, per flush and partition, the newest ingest time it covered, when it completed and when it began. */
    static final class FlushLog {
        private final Map<Integer, List<long[]>> byPartition = new ConcurrentHashMap<>();
        /** Per sink call: rows, milliseconds it took, when it ended. */
        private final List<long[]> writes = new CopyOnWriteArrayList<>();

        /** Sink calls, rows per call and time per call (p50, max), and the longest gap between calls. */
        String summary() {
            if (writes.isEmpty()) {
                return "no flushes";
            }
            long[] rows = writes.stream().mapToLong(w -> w[0]).sorted().toArray();
            long[] millis = writes.stream().mapToLong(w -> w[1]).sorted().toArray();
            long[] ends = writes.stream().mapToLong(w -> w[2]).sorted().toArray();
            long gap = 0;
            for (int i = 1; i < ends.length; i++) {
                gap = Math.max(gap, ends[i] - ends[i - 1]);
            }
            return String.format("%,d sink calls (all stream threads), %,d rows: rows per call p50 %,d max %,d; ms per call p50 %d max %d;"
                    + " longest gap between calls %d ms", rows.length, Arrays.stream(rows).sum(), rows[rows.length / 2],
                    rows[rows.length - 1], millis[millis.length / 2], millis[millis.length - 1], gap);
        }

        /**
         * For the flushes that ended from {@code fromMillis} on: the gaps between a partition's
         * consecutive flushes and the time of each sink call (p50, p99, max), to tell a latency tail
         * made by slow writes from one made by flushes coming late.
         */
        String cadence(long fromMillis) {
            long[] gaps = byPartition.values().stream().flatMapToLong(flushes -> {
                List<Long> ends = flushes.stream().map(f -> f[1]).sorted().toList();
                return IntStream.range(1, ends.size()).filter(i -> ends.get(i) >= fromMillis)
                        .mapToLong(i -> ends.get(i) - ends.get(i - 1));
            }).sorted().toArray();
            long[] millis = writes.stream().filter(w -> w[2] >= fromMillis).mapToLong(w -> w[1]).sorted().toArray();
            // how far processing was behind when a flush began: the age of the newest ingest time among its rows
            long[] behind = byPartition.values().stream().flatMap(List::stream).filter(f -> f[1] >= fromMillis)
                    .mapToLong(f -> f[2] - f[0]).sorted().toArray();
            if (gaps.length == 0 || millis.length == 0) {
                return "no flushes measured";
            }
            return String.format("measured: gap between a partition's flushes p50 %d p99 %d max %d ms; sink call p50 %d p99 %d max %d ms;"
                    + " newest ingest time in a flush, its age when the flush began: p50 %d p99 %d max %d ms",
                    pct(gaps, 0.50), pct(gaps, 0.99), gaps[gaps.length - 1], pct(millis, 0.50), pct(millis, 0.99), millis[millis.length - 1],
                    pct(behind, 0.50), pct(behind, 0.99), behind[behind.length - 1]);
        }

        SpeedRowSink wrap(SpeedRowSink inner) {
            return (rows, writeTime) -> {
                long began = System.nanoTime();
                long beganMillis = System.currentTimeMillis();
                long work = inner.writeAll(rows, writeTime);
                long done = System.currentTimeMillis();
                writes.add(new long[] {rows.size(), (System.nanoTime() - began) / 1_000_000, done});
                Map<Integer, Long> newest = new HashMap<>();
                for (SpeedRowSink.Write w : rows) {
                    newest.merge(w.row().sourcePartition(), w.row().latestIngest().toEpochMilli(), Math::max);
                }
                newest.forEach((p, ingest) -> byPartition.computeIfAbsent(p, k -> new CopyOnWriteArrayList<>()).add(new long[] {ingest, done, beganMillis}));
                return work;
            };
        }

        long[] latencies(List<long[]> sent) {
            long[] out = new long[sent.size()];
            int i = 0;
            for (long[] s : sent) {
                long flushedAt = Long.MAX_VALUE;
                for (long[] f : byPartition.getOrDefault((int) s[0], List.of())) {
                    if (f[0] >= s[1]) {
                        flushedAt = Math.min(flushedAt, f[1]);
                    }
                }
                out[i++] = flushedAt - s[2];
            }
            return out;
        }
    }
}
