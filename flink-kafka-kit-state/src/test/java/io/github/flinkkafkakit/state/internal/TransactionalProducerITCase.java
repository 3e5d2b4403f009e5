package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Pins what {@link TransactionalProducer} relies on in Kafka's producer and broker (the broker runs
 * Kafka's current transaction protocol, where each commit bumps the producer epoch): a transaction
 * pre-committed by one producer is committed by another that resumes it; after the id is fenced, or
 * once the broker aborted the transaction, a resumed commit fails and says it was fenced.
 */
class TransactionalProducerITCase {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension(
                    KafkaBrokerExtension.Mode.EMBEDDED,
                    Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500"));

    private static Properties producerProperties() {
        Properties props = KAFKA.clientProperties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        return props;
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String value) {
        return new ProducerRecord<>(topic, null, value.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> committed(KafkaTestClient kafka, String topic) {
        return kafka.consumeAll(topic, Duration.ofMillis(500)).stream()
                .map(ConsumerRecord::value)
                .toList();
    }

    @Test
    void shouldCommitAResumedTransaction(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("resume", 2);
        long producerId;
        short epoch;
        String id = "fkk-test-resume-" + topic;
        try (TransactionalProducer first = TransactionalProducer.create(producerProperties(), id)) {
            first.fence();
            first.begin();
            first.send(record(topic, "a"), null);
            first.send(new ProducerRecord<>(topic, 1, null, "b".getBytes()), null);
            first.preCommit();
            producerId = first.producerId();
            epoch = first.epoch();
        }
        assertThat(committed(kafka, topic)).isEmpty();

        TransactionalProducer.resumeAndCommit(producerProperties(), id, producerId, epoch);

        assertThat(committed(kafka, topic)).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void fenceAllTakesEveryIdOverAndAbortsWhatEachEarlierHolderLeftOpen(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("fence-all", 1);
        List<TransactionalProducer> earlier = new ArrayList<>();
        List<TransactionalProducer> later = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                String id = "fkk-test-fence-all-" + topic + "-" + i;
                TransactionalProducer holder =
                        TransactionalProducer.create(producerProperties(), id);
                earlier.add(holder);
                holder.fence();
                holder.begin();
                holder.send(record(topic, "open-" + i), null);
                holder.preCommit();
                later.add(TransactionalProducer.create(producerProperties(), id));
            }

            TransactionalProducer.fenceAll(later);

            for (TransactionalProducer holder : earlier) {
                assertThat(catchThrowable(holder::commit))
                        .as("commit of the earlier holder of %s", holder.transactionalId())
                        .isNotNull();
            }
            for (int i = 0; i < 3; i++) { // each id usable by its new holder
                TransactionalProducer holder = later.get(i);
                holder.begin();
                holder.send(record(topic, "new-" + i), null);
                holder.commit();
            }
            assertThat(committed(kafka, topic))
                    .containsExactlyInAnyOrder("new-0", "new-1", "new-2");
        } finally {
            earlier.forEach(TransactionalProducer::close);
            later.forEach(TransactionalProducer::close);
        }
    }

    @Test
    void shouldSayFencedWhenTheIdWasTakenOverBeforeTheResumedCommit(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("fenced", 1);
        String id = "fkk-test-fenced-" + topic;
        long producerId;
        short epoch;
        try (TransactionalProducer first = TransactionalProducer.create(producerProperties(), id)) {
            first.fence();
            first.begin();
            first.send(record(topic, "lost"), null);
            first.preCommit();
            producerId = first.producerId();
            epoch = first.epoch();
        }
        try (TransactionalProducer second =
                TransactionalProducer.create(producerProperties(), id)) {
            second.fence(); // aborts the open transaction
        }

        Throwable failure =
                catchThrowable(
                        () ->
                                TransactionalProducer.resumeAndCommit(
                                        producerProperties(), id, producerId, epoch));

        assertThat(failure).isNotNull();
        assertThat(TransactionalProducer.isFenced(failure)).as(failure.toString()).isTrue();
        assertThat(committed(kafka, topic)).isEmpty();
    }

    @Test
    void shouldFenceAnActiveProducerOfTheSameId(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("active", 1);
        String id = "fkk-test-active-" + topic;
        try (TransactionalProducer old = TransactionalProducer.create(producerProperties(), id);
                TransactionalProducer taker =
                        TransactionalProducer.create(producerProperties(), id)) {
            old.fence();
            old.begin();
            old.send(record(topic, "old"), null);
            old.preCommit();

            taker.fence();

            Throwable failure = catchThrowable(old::commit);
            assertThat(TransactionalProducer.isFenced(failure))
                    .as(String.valueOf(failure))
                    .isTrue();
            taker.begin();
            taker.send(record(topic, "new"), null);
            taker.commit();
        }
        assertThat(committed(kafka, topic)).containsExactly("new");
    }

    @Test
    void shouldNotCommitATransactionTheBrokerAbortedAfterItsTimeout(KafkaTestClient kafka)
            throws Exception {
        String topic = kafka.createUniqueTopic("timeout", 1);
        String id = "fkk-test-timeout-" + topic;
        Properties props = producerProperties();
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "1000");
        long producerId;
        short epoch;
        try (TransactionalProducer first = TransactionalProducer.create(props, id)) {
            first.fence();
            first.begin();
            first.send(record(topic, "expired"), null);
            first.preCommit();
            producerId = first.producerId();
            epoch = first.epoch();
        }
        Thread.sleep(4_000); // the broker aborts it after 1 s, checking every 0.5 s

        Throwable failure =
                catchThrowable(
                        () -> TransactionalProducer.resumeAndCommit(props, id, producerId, epoch));

        assertThat(failure).isNotNull();
        assertThat(TransactionalProducer.isFenced(failure)).as(failure.toString()).isTrue();
        assertThat(committed(kafka, topic)).isEmpty();
    }
}
