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
    void readsWhatARealConsumerHasNotFetchedYetPerPartition(LocalCluster cluster) throws Exception {
        String topic = "lag-events";
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
        // fetches of ~1 KB: the first one leaves almost all of partition 1 in Kafka
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1_024, ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
                1_024), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
            consumer.seekToBeginning(consumer.assignment());
            ConsumerLag lag = new ConsumerLag(topic);
            lag.watch(consumer::metrics);
            long read = 0;
            while (read == 0) {
                read += consumer.poll(Duration.ofMillis(200)).count();
            }
            long behind = lag.recordsBehind(1);
            assertTrue(behind > records / 2 && behind < records, "records of partition 1 not fetched yet: " + behind);
            assertEquals(0, lag.recordsBehind(0), "partition 0 is empty");
            assertEquals(behind, lag.total());

            while (read < records) {
                read += consumer.poll(Duration.ofMillis(200)).count();
            }
            consumer.poll(Duration.ofMillis(200)); // a fetch at the end
            assertEquals(0, lag.recordsBehind(1), "all of it fetched");
        }
    }
}
