package io.github.flinkkafkakit.testing.history;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CommittedOutputITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void shouldReadCommittedRecordsToTheLastStableOffsetWithoutWaitingForAnOpenTransaction(
            KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("committed", 1);
        try (KafkaProducer<String, String> p = kafka.transactionalProducer("co-" + topic)) {
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "k", "1"));
            p.send(new ProducerRecord<>(topic, "k", "2"));
            p.commitTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "k", "aborted"));
            p.abortTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "k", "3"));
            p.commitTransaction();
            kafka.awaitTransactionsCompleted(topic);
            long committedEnd = kafka.endOffsets(topic, true).get(0);
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "k", "open"));
            p.flush();

            long started = System.nanoTime();
            List<ConsumerRecord<String, String>> all =
                    CommittedOutput.read(KAFKA.bootstrapServers(), topic);
            long millis = (System.nanoTime() - started) / 1_000_000;

            assertThat(all).extracting(ConsumerRecord::value).containsExactly("1", "2", "3");
            assertThat(millis).as("no waiting for silence").isLessThan(1_500);
            assertThat(
                            CommittedOutput.read(
                                    KAFKA.bootstrapServers(),
                                    topic,
                                    Map.of(0, all.get(2).offset())))
                    .extracting(ConsumerRecord::value)
                    .containsExactly("3");
            assertThat(committedEnd).isGreaterThan(all.get(2).offset());
            p.abortTransaction();
        }
    }

    @Test
    void shouldReadNothingFromATopicThatDoesNotExistWithoutCreatingIt(KafkaTestClient kafka)
            throws Exception {
        String topic = KafkaTestClient.uniqueTopicName("absent");

        assertThat(CommittedOutput.read(KAFKA.bootstrapServers(), topic)).isEmpty();
        assertThat(kafka.admin().listTopics().names().get()).doesNotContain(topic);
    }
}
