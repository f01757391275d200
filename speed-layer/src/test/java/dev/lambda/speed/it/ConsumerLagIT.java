package dev.lambda.speed.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lambda.cluster.LocalCluster;
import dev.lambda.cluster.LocalClusterExtension;
import dev.lambda.cluster.SystemTopics;
import dev.lambda.speed.metrics.ConsumerLag;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The flush pacing's and the lag gauge's reading of a real consumer's metrics (their names and tags are Kafka's). */
@ExtendWith(LocalClusterExtension.class)
class ConsumerLagIT {

    @Test
    void readsWhatARealConsumerHasNotReturnedYet(LocalCluster cluster) throws Exception {
        String topic = "lag.events"; // a dot: Kafka 4 also keeps a deprecated copy of the metric with "lag_events"
        try (Admin admin = cluster.kafka().admin()) {
            SystemTopics.create(admin, List.of(new NewTopic(topic, 2, (short) 1)));
        }
        int records = 2_000;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, 1, null, new byte[100]));
            }
        }
        // small fetches (one producer batch each): the first poll leaves most of partition 1 in Kafka. Named
        // as Kafka Streams names a stream thread's consumer, this thread being the stream thread
        String clientId = Thread.currentThread().getName() + "-consumer";
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ConsumerConfig.CLIENT_ID_CONFIG, clientId, ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1_024,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1_024), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
            consumer.seekToBeginning(consumer.assignment());
            ConsumerLag lag = new ConsumerLag(topic);
            lag.watch(consumer::metrics, () -> Set.of(clientId));
            long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            long read = 0;
            while (read == 0 && System.nanoTime() < giveUpAt) {
                read += consumer.poll(Duration.ofMillis(200)).count();
            }
            long behind = lag.recordsBehind(1);
            assertTrue(behind > records / 2 && behind < records, "records of partition 1 not returned yet: " + behind);
            assertEquals(0, lag.recordsBehind(0), "partition 0 is empty");
            assertEquals(behind, lag.total(), "counted once, the deprecated copy left out");

            while (read < records && System.nanoTime() < giveUpAt) {
                read += consumer.poll(Duration.ofMillis(200)).count();
            }
            assertEquals(records, read);
            assertEquals(0, lag.recordsBehind(1), "all of it read");
            assertEquals(0, lag.total());
        }
    }
}
