package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.history.KeyedHistory;

import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances of {@code stateful-total} on the same state topic and group, the second started
 * while the first runs and commits every 300 ms, with the writers' transactional ids expiring after
 * 4 s of disuse (a reviewer's reproduction: with expired ids nothing was fenced and the second
 * restored positions of one checkpoint and state of the next — every key wrong; with fresh ids the
 * first was fenced mid-flight and 99 dead letters were written for 70 invalid inputs).
 *
 * <p>Now the second instance takes the changelog over before it restores anything: the first stops,
 * naming the take-over, and never commits again. After input stops, the second is killed and a
 * bounded run finishes from Kafka alone: totals exact, each invalid deposit dead-lettered once, and
 * the whole committed output history exact (every total a prefix sum of its account's deposits at a
 * later position than the one before — a replayed or doubled deposit shows).
 */
class StatefulTotalSecondInstanceITCase {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension(
                    KafkaBrokerExtension.Mode.AUTO,
                    Map.of(
                            "transactional.id.expiration.ms", "4000",
                            "transaction.remove.expired.transaction.cleanup.interval.ms", "1000"));

    private final Random random = new Random(11);
    private final KeyedHistory<String> history = new KeyedHistory<>();
    private final Map<String, Long> expected = new HashMap<>();
    private long invalid;

    /** Deposits of 1..100 (strictly positive, so each account's totals strictly increase). */
    private void produce(KafkaTestClient kafka, String topic, int records) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            String key = "acct-" + random.nextInt(50);
            if (random.nextInt(300) == 0) {
                batch.add(KeyValue.of(key, "n/a"));
                invalid++;
            } else {
                long amount = 1 + random.nextInt(100);
                batch.add(KeyValue.of(key, Long.toString(amount)));
                expected.merge(key, amount, Long::sum);
                history.input(key, amount);
            }
        }
        kafka.produce(topic, batch);
    }

    @Test
    void shouldLetTheSecondInstanceTakeOverAndStopTheFirst() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("deposits", 4);
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");
        String[] args =
                ExampleRun.with(
                        ExampleRun.statefulTotal(KAFKA.bootstrapServers(), in, out, state),
                        "--parallelism",
                        "2");
        File firstLog = new File(System.getProperty("java.io.tmpdir"), "first-instance.log");
        File secondLog = new File(System.getProperty("java.io.tmpdir"), "second-instance.log");
        produce(kafka, in, 5_000);
        Process first = ExampleRun.startProcess(firstLog, args);
        Process second = null;
        try {
            waitForCommittedOutput(kafka, out, first);
            for (int i = 0; i < 20; i++) { // 5 s of input while the first runs: ids expire
                produce(kafka, in, 500);
                Thread.sleep(250);
            }
            second = ExampleRun.startProcess(secondLog, args);
            for (int i = 0; i < 60; i++) { // 12 s of input: the second starts, restores, runs
                produce(kafka, in, 250);
                Thread.sleep(200);
            }
            assertThat(first.waitFor(90, TimeUnit.SECONDS))
                    .as("the first instance stops once the second took over")
                    .isTrue();
            String firstOutput = Files.readString(firstLog.toPath(), StandardCharsets.UTF_8);
            assertThat(first.exitValue()).as(firstOutput).isNotZero();
            assertThat(firstOutput).contains("took changelog '" + state + "' over");
            assertThat(second.isAlive()).as("the second instance runs on").isTrue();
            waitUntilConsumed(kafka, in, state + "-positions", second);
        } finally {
            first.destroyForcibly();
            if (second != null) {
                second.destroyForcibly(); // SIGKILL: the final run restores from Kafka alone
                second.waitFor(30, TimeUnit.SECONDS);
            }
        }
        produce(kafka, in, 2_000);

        List<String> finalRun = new ArrayList<>(List.of(args));
        finalRun.set(finalRun.size() - 1, "3");
        finalRun.add("--bounded");
        ExampleRun run = ExampleRun.of(finalRun.toArray(new String[0]));
        assertThat(run.exitCode()).as(run.all()).isZero();

        Map<String, String> want = new TreeMap<>();
        expected.forEach((k, v) -> want.put(k, Long.toString(v)));
        List<ConsumerRecord<String, String>> outputs = kafka.consumeAll(out, Duration.ofSeconds(1));
        Map<String, String> last = new TreeMap<>();
        for (ConsumerRecord<String, String> r : outputs) {
            last.put(r.key(), r.value());
            history.output(r.key(), Long.parseLong(r.value()));
        }
        assertThat(last).isEqualTo(want);
        KeyedHistory.Verdict verdict = history.checkRunningTotals(false);
        assertThat(verdict.isExact()).as(verdict.toString()).isTrue();
        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(in + "-dlq", Duration.ofSeconds(1));
        assertThat(letters.stream().map(StatefulTotalSecondInstanceITCase::position).toList())
                .as("each invalid deposit dead-lettered once")
                .hasSize((int) invalid)
                .doesNotHaveDuplicates();
    }

    private static String position(ConsumerRecord<byte[], byte[]> letter) {
        return new String(letter.headers().lastHeader("__fkk.errors.partition").value())
                + "@"
                + new String(letter.headers().lastHeader("__fkk.errors.offset").value());
    }

    /** Waits (bounded) until the job has committed output. */
    private static void waitForCommittedOutput(KafkaTestClient kafka, String topic, Process job)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                throw new AssertionError("the job process exited with " + job.exitValue());
            }
            if (kafka.admin().listTopics().names().get().contains(topic)
                    && committedEnd(kafka, topic) > 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no committed output within 90 s");
    }

    /**
     * Waits (bounded) until the committed positions of {@code in} reach its end: the job has
     * committed all the input there is.
     */
    private static void waitUntilConsumed(
            KafkaTestClient kafka, String in, String positions, Process job) throws Exception {
        Map<String, Long> end = new HashMap<>();
        kafka.admin()
                .listOffsets(
                        kafka
                                .admin()
                                .describeTopics(List.of(in))
                                .allTopicNames()
                                .get()
                                .get(in)
                                .partitions()
                                .stream()
                                .collect(
                                        Collectors.toMap(
                                                p -> new TopicPartition(in, p.partition()),
                                                p -> OffsetSpec.latest())))
                .all()
                .get()
                .forEach((tp, info) -> end.put(tp.topic() + "/" + tp.partition(), info.offset()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                throw new AssertionError("the job process exited with " + job.exitValue());
            }
            Map<String, String> committed =
                    kafka.latestValuePerKey(positions, Duration.ofMillis(300));
            if (end.entrySet().stream()
                    .allMatch(
                            e ->
                                    committed.containsKey(e.getKey())
                                            && Long.parseLong(committed.get(e.getKey()))
                                                    >= e.getValue())) {
                return;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("the second instance did not consume all input within 90 s");
    }

    /** The sum of the topic's last stable offsets: how many records it has committed. */
    private static long committedEnd(KafkaTestClient kafka, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> request =
                kafka
                        .admin()
                        .describeTopics(List.of(topic))
                        .allTopicNames()
                        .get()
                        .get(topic)
                        .partitions()
                        .stream()
                        .collect(
                                Collectors.toMap(
                                        p -> new TopicPartition(topic, p.partition()),
                                        p -> OffsetSpec.latest()));
        return kafka
                .admin()
                .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all()
                .get()
                .values()
                .stream()
                .mapToLong(info -> info.offset())
                .sum();
    }
}
