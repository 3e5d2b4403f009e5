package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reading the positions topic, which a job start does several times in a row (the writer's
 * take-over twice, each restoring task until the take-over is done): against a real broker, with
 * the records committed in a transaction by the writer's producer.
 */
class PositionsTopicITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void readsTheCommittedRecordsWithoutWaitingAtTheEndOfTheTopic() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String topic = KafkaTestClient.uniqueTopicName("positions");
        kafka.createTopic(topic, 1, Map.of("cleanup.policy", "compact"));
        Properties props = KAFKA.clientProperties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        try (TransactionalProducer producer =
                TransactionalProducer.create(props, "positions-test-" + topic)) {
            producer.fence();
            producer.begin();
            producer.send(record(topic, "in/0", "42"), null);
            producer.send(record(topic, "in/1", "7"), null);
            producer.commit();
        }
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());

        PositionsTopic.read(connection, topic); // a first read loads the consumer's classes
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            PositionsTopic.Snapshot snapshot = PositionsTopic.read(connection, topic);
            fastest = Math.min(fastest, (System.nanoTime() - start) / 1_000_000);
            assertThat(snapshot.positions()).isEqualTo(Map.of("in/0", 42L, "in/1", 7L));
        }
        // The consumer's default fetch.max.wait.ms (500 ms) made every read wait that long for
        // data past the end offsets it reads up to: about 1 s of each job start.
        assertThat(fastest).as("fastest of three reads, in ms").isLessThan(300);
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String key, String value) {
        return new ProducerRecord<>(
                topic,
                key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.US_ASCII));
    }
}
