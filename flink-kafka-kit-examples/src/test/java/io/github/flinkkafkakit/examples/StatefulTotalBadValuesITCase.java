package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * stateful-total with every kind of non-integer value between valid deposits, including a record
 * without a value (a tombstone, which used to fail the job in Flink's Tuple2 serializer): each goes
 * to the dead-letter topic with its reason, and so does a deposit that would overflow its key's
 * total; the job finishes, the totals are exact.
 */
class StatefulTotalBadValuesITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void shouldDeadLetterNonIntegersAndOverflowingDepositsAndKeepTheTotalsExact() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("deposits", 2);
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");
        String[] invalid = {null, "", "5.5", "abc", "1e3", "99999999999999999999"};
        List<KeyValue<byte[], byte[]>> records = new ArrayList<>();
        for (String value : invalid) {
            records.add(KeyValue.of(utf8("a"), value == null ? null : utf8(value)));
            records.add(KeyValue.of(utf8("a"), utf8("2")));
            records.add(KeyValue.of(utf8("b"), utf8("-1")));
        }
        // 2^63 - 1: a valid value, but the next deposit of 1 would overflow key c's total.
        records.add(KeyValue.of(utf8("c"), utf8(Long.toString(Long.MAX_VALUE))));
        records.add(KeyValue.of(utf8("c"), utf8("1")));
        kafka.produceBytes(in, records);

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
                        "--bounded");

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(kafka.latestValuePerKey(out))
                .isEqualTo(Map.of("a", "12", "b", "-6", "c", Long.toString(Long.MAX_VALUE)));
        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(in + "-dlq", Duration.ofSeconds(2));
        assertThat(letters).hasSize(invalid.length + 1);
        List<String> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> letter : letters) {
            values.add(
                    letter.value() == null
                            ? null
                            : new String(letter.value(), StandardCharsets.UTF_8));
            Header message = letter.headers().lastHeader(DeadLetter.MESSAGE);
            assertThat(message).as("reason header of %s", values).isNotNull();
            String reason = new String(message.value(), StandardCharsets.UTF_8);
            if (letter.value() == null) {
                assertThat(reason).contains("tombstone");
            }
            if ("1".equals(values.get(values.size() - 1))) {
                assertThat(new String(letter.key(), StandardCharsets.UTF_8)).isEqualTo("c");
                assertThat(reason)
                        .isEqualTo(
                                "the total would overflow a 64-bit integer: "
                                        + Long.MAX_VALUE
                                        + " + 1");
                assertThat(letter.headers().lastHeader(DeadLetter.STAGE).value())
                        .asString(StandardCharsets.UTF_8)
                        .isEqualTo("PROCESS");
            }
        }
        List<String> want = new ArrayList<>(Arrays.asList(invalid));
        want.add("1");
        assertThat(values).containsExactlyInAnyOrderElementsOf(want);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
