package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The examples over input written by an upstream exactly-once job whose transaction aborted in the
 * middle: the aborted records are not processed (the reviewer's case: 10 committed deposits of 1,
 * one aborted deposit of 100, 5 committed deposits of 1 gave a total of 115 instead of 15).
 */
class AbortedInputITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** 10 × (k, committed), then {@code aborted} in an aborted transaction, then 5 × committed. */
    private static String inputWithAnAbortedTransaction(
            String prefix, String committed, String... aborted) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String topic = kafka.createUniqueTopic(prefix, 1);
        try (KafkaProducer<String, String> upstream =
                kafka.transactionalProducer("upstream-" + topic)) {
            upstream.beginTransaction();
            for (int i = 0; i < 10; i++) {
                upstream.send(new ProducerRecord<>(topic, "k", committed));
            }
            upstream.commitTransaction();
            upstream.beginTransaction();
            for (String value : aborted) {
                upstream.send(new ProducerRecord<>(topic, "k", value));
            }
            upstream.flush();
            upstream.abortTransaction();
            upstream.beginTransaction();
            for (int i = 0; i < 5; i++) {
                upstream.send(new ProducerRecord<>(topic, "k", committed));
            }
            upstream.commitTransaction();
        }
        // The markers are written after commit/abort return; the bounded run ends at the last
        // stable offset, so wait until it includes the last transaction.
        kafka.awaitTransactionsCompleted(topic);
        return topic;
    }

    @Test
    void statefulTotalShouldNotAddTheAbortedDeposit() throws Exception {
        String in = inputWithAnAbortedTransaction("deposits", "1", "100");
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");

        ExampleRun run =
                ExampleRun.of(
                        "stateful-total",
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--input-topic",
                        in,
                        "--output-topic",
                        out,
                        "--state-topic",
                        state,
                        "--checkpoint-interval",
                        "300ms",
                        "--bounded");

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(KAFKA.client().latestValuePerKey(out)).isEqualTo(Map.of("k", "15"));
    }

    @Test
    void countShouldNotCountTheAbortedRecords() throws Exception {
        String[] aborted = new String[100];
        Arrays.fill(aborted, "aborted");
        String in = inputWithAnAbortedTransaction("count-in", "v", aborted);
        String out = KafkaTestClient.uniqueTopicName("count-out");

        ExampleRun run = ExampleRun.boundedCount(KAFKA.bootstrapServers(), in, out, null);

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(KAFKA.client().latestValuePerKey(out)).isEqualTo(Map.of("k", "15"));
    }
}
