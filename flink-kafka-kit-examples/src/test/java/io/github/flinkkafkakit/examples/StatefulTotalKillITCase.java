package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
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
 * stateful-total in its own JVM, killed with SIGKILL mid-stream at several points while input keeps
 * arriving, then finished by a bounded run with no Flink checkpoint: totals are exact and every
 * invalid value is in the dead-letter topic exactly once.
 */
class StatefulTotalKillITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private final Map<String, Long> expected = new HashMap<>();
    private final Random random = new Random(3);
    private long invalid;
    private long records;

    private void produce(KafkaTestClient kafka, String topic, int records) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        this.records += records;
        for (int i = 0; i < records; i++) {
            String key = "acct-" + random.nextInt(200);
            if (random.nextInt(500) == 0) {
                batch.add(KeyValue.of(key, "n/a"));
                invalid++;
            } else {
                long amount = random.nextInt(100);
                batch.add(KeyValue.of(key, Long.toString(amount)));
                expected.merge(key, amount, Long::sum);
            }
        }
        kafka.produce(topic, batch);
    }

    @Test
    void shouldGiveExactTotalsAfterSigkillsAndARestartFromKafkaAlone() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("deposits", 3);
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");
        String dlq = in + "-dlq";
        String[] common = {
            "stateful-total",
            "--bootstrap-servers",
            KAFKA.bootstrapServers(),
            "--input-topic",
            in,
            "--output-topic",
            out,
            "--state-topic",
            state,
            "--group-id",
            "g-" + in,
            "--checkpoint-interval",
            "300ms"
        };
        long[] killAfterMillis = {0, 800, 2500};
        for (int round = 0; round < killAfterMillis.length; round++) {
            produce(kafka, in, 20_000);
            List<String> args = new ArrayList<>(List.of(common));
            args.addAll(List.of("--parallelism", Integer.toString(1 + round % 2)));
            Process job =
                    ExampleRun.startProcess(
                            new File(System.getProperty("java.io.tmpdir"), "kill-run.log"),
                            args.toArray(new String[0]));
            try {
                waitForCommittedOutput(kafka, out, job);
                produce(kafka, in, 5_000); // arrives while the job runs
                Thread.sleep(killAfterMillis[round]);
            } finally {
                job.destroyForcibly(); // SIGKILL
                job.waitFor(30, TimeUnit.SECONDS);
            }
        }
        produce(kafka, in, 10_000);

        List<String> finalRun = new ArrayList<>(List.of(common));
        finalRun.addAll(List.of("--parallelism", "3", "--bounded"));
        ExampleRun run = ExampleRun.of(finalRun.toArray(new String[0]));

        Map<String, String> want = new TreeMap<>();
        expected.forEach((k, v) -> want.put(k, Long.toString(v)));
        Map<String, String> got = new TreeMap<>(kafka.latestValuePerKey(out));
        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(dlq, Duration.ofSeconds(2));
        report(want, got, letters, killAfterMillis.length);

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(got).isEqualTo(want);
        assertThat(letters).hasSize((int) invalid);
        assertThat(
                        letters.stream()
                                .map(StatefulTotalKillITCase::position)
                                .collect(Collectors.toSet()))
                .as("each invalid record dead-lettered once")
                .hasSize((int) invalid);
    }

    /**
     * The reliability row: lost/duplicated count accounts whose total is below/above the input's
     * plus invalid records missing from/repeated in the dead-letter topic.
     */
    private void report(
            Map<String, String> want,
            Map<String, String> got,
            List<ConsumerRecord<byte[], byte[]>> letters,
            int kills) {
        long below = 0;
        long above = 0;
        for (Map.Entry<String, String> e : want.entrySet()) {
            long have = Long.parseLong(got.getOrDefault(e.getKey(), "0"));
            long need = Long.parseLong(e.getValue());
            below += have < need ? 1 : 0;
            above += have > need ? 1 : 0;
        }
        long distinctLetters =
                letters.stream().map(StatefulTotalKillITCase::position).distinct().count();
        long lost = below + Math.max(0, invalid - distinctLetters);
        long duplicated = above + (letters.size() - distinctLetters);
        new ReliabilityResult(
                        "stateful-total on Kafka changelog state, "
                                + kills
                                + " SIGKILLs of the job JVM, final bounded run without a Flink"
                                + " checkpoint (lost/duplicated: accounts with a wrong total and"
                                + " dead letters missing/repeated)",
                        records,
                        lost,
                        duplicated,
                        kills,
                        ReliabilityResult.verdict(lost, duplicated))
                .append();
    }

    private static String position(ConsumerRecord<byte[], byte[]> letter) {
        return new String(letter.headers().lastHeader("__fkk.errors.partition").value())
                + "@"
                + new String(letter.headers().lastHeader("__fkk.errors.offset").value());
    }

    /** Waits (bounded) until the job has committed at least one output record. */
    private static void waitForCommittedOutput(KafkaTestClient kafka, String topic, Process job)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                throw new AssertionError("the job process exited with " + job.exitValue());
            }
            if (kafka.admin().listTopics().names().get().contains(topic)
                    && !kafka.consumeAll(topic, Duration.ofMillis(100)).isEmpty()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no committed output within 90 s");
    }
}
