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

    private static final int NEAR_LIMIT = 1_046_000;

    @Test
    void shouldDeadLetterNonIntegersAndOverflowingDepositsAndKeepTheTotalsExact() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("deposits", 2);
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");
        // The last: a value near the 1 MiB record limit; its dead letter gains context headers
        // (whose message quotes the value) and must be cut to fit, not fail the writer.
        String[] invalid = {
            null, "", "5.5", "abc", "1e3", "99999999999999999999", "7".repeat(NEAR_LIMIT)
        };
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
                .isEqualTo(
                        Map.of(
                                "a",
                                Long.toString(2L * invalid.length),
                                "b",
                                Long.toString(-invalid.length),
                                "c",
                                Long.toString(Long.MAX_VALUE)));
        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(in + "-dlq", Duration.ofSeconds(2));
        assertThat(letters).hasSize(invalid.length + 1);
        List<String> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> letter : letters) {
            String value =
                    letter.value() == null
                            ? null
                            : new String(letter.value(), StandardCharsets.UTF_8);
            if (value != null && value.length() > 100) {
                // Cut to fit the record limit, never failing the job.
                assertThat(letter.serializedValueSize() + letter.serializedKeySize())
                        .isLessThan(NEAR_LIMIT);
                assertThat(value).matches("7+");
                value = "(near the limit)";
            }
            values.add(value);
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
        want.set(want.size() - 1, "(near the limit)");
        want.add("1");
        assertThat(values).containsExactlyInAnyOrderElementsOf(want);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
