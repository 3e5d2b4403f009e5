package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.history.KeyedHistory;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code stateful-total}'s input in the kill tests, and the check of what all runs committed: the
 * whole output history of every account (its totals are prefix sums of its deposits at strictly
 * increasing positions, the last one its exact total) and every invalid value in the dead-letter
 * topic exactly once.
 */
final class Deposits {

    private final Map<String, Long> expected = new HashMap<>();
    private final KeyedHistory<String> history = new KeyedHistory<>();
    private final Random random;
    private long invalid;
    private long records;

    Deposits(long seed) {
        this.random = new Random(seed);
    }

    /**
     * Produces {@code records} deposits of 1..99 (never 0: a total that does not move would hide a
     * replayed one) to 200 accounts, about one in 500 invalid.
     */
    void produce(KafkaTestClient kafka, String topic, int records) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        this.records += records;
        for (int i = 0; i < records; i++) {
            String key = "acct-" + random.nextInt(200);
            if (random.nextInt(500) == 0) {
                batch.add(KeyValue.of(key, "n/a"));
                invalid++;
            } else {
                long amount = 1 + random.nextInt(99);
                batch.add(KeyValue.of(key, Long.toString(amount)));
                expected.merge(key, amount, Long::sum);
                history.input(key, amount);
            }
        }
        kafka.produce(topic, batch);
    }

    /** Every account's total of the deposits produced so far. */
    Map<String, Long> totals() {
        return new HashMap<>(expected);
    }

    long records() {
        return records;
    }

    long invalid() {
        return invalid;
    }

    /**
     * Reads the whole committed output and dead-letter topics (call it once, when every run has
     * ended: all that was committed is then below the last stable offsets).
     */
    Check check(String bootstrapServers, String outputTopic, String dlqTopic) throws Exception {
        for (ConsumerRecord<String, String> r :
                CommittedOutput.read(bootstrapServers, outputTopic)) {
            history.output(r.key(), Long.parseLong(r.value()));
        }
        return new Check(
                history.checkRunningTotals(false),
                CommittedOutput.readBytes(bootstrapServers, dlqTopic),
                invalid);
    }

    /** Where a dead letter's input was: {@code partition@offset}, from its error headers. */
    static String position(ConsumerRecord<byte[], byte[]> letter) {
        return new String(
                        letter.headers().lastHeader("__fkk.errors.partition").value(),
                        StandardCharsets.UTF_8)
                + "@"
                + new String(
                        letter.headers().lastHeader("__fkk.errors.offset").value(),
                        StandardCharsets.UTF_8);
    }

    /** The committed history checked against the deposits. */
    record Check(
            KeyedHistory.Verdict totals,
            List<ConsumerRecord<byte[], byte[]>> letters,
            long invalid) {

        long distinctLetters() {
            return letters.stream().map(Deposits::position).distinct().count();
        }

        long lost() {
            return totals.lost() + Math.max(0, invalid - distinctLetters());
        }

        long duplicated() {
            return totals.duplicatedOrWrong() + (letters.size() - distinctLetters());
        }

        String detail() {
            return String.format(
                    "%,d committed totals over %,d accounts; %d invalid inputs,"
                            + " %d distinct dead letters",
                    totals.outputs(), totals.keys(), invalid, distinctLetters());
        }

        /** Exact totals history; each invalid input dead-lettered once. */
        void assertExact() {
            assertThat(totals.isExact()).as(totals.toString()).isTrue();
            assertThat(letters)
                    .as("dead letters (%d invalid inputs)", invalid)
                    .hasSize((int) invalid);
            assertThat(letters.stream().map(Deposits::position).collect(Collectors.toSet()))
                    .as("each invalid record dead-lettered once")
                    .hasSize((int) invalid);
        }
    }
}
