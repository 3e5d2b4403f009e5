package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * stateful-total in its own JVM, killed with SIGKILL mid-stream in three rounds while input keeps
 * arriving, then finished by a bounded run with no Flink checkpoint. Each kill comes only after
 * that round's process committed totals that include input produced in that round (so it restored
 * and made progress; the previous rounds' output does not count). The whole committed output is
 * then checked as a history: every account's totals are prefix sums of its deposits at strictly
 * increasing positions, the last one its exact total, and every invalid value is in the dead-letter
 * topic exactly once.
 */
class StatefulTotalKillITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long SEED = 3;
    private static final long ROUND_TIMEOUT_SECONDS = 90;

    private final Deposits deposits = new Deposits(SEED);

    @Test
    void shouldGiveExactTotalsAfterSigkillsAndARestartFromKafkaAlone() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("deposits", 3);
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");
        String dlq = in + "-dlq";
        String[] common = ExampleRun.statefulTotal(KAFKA.bootstrapServers(), in, out, state);
        long[] killAfterMillis = {0, 800, 2500};
        File log = new File(System.getProperty("java.io.tmpdir"), "kill-run.log");
        for (int round = 0; round < killAfterMillis.length; round++) {
            // What was committed and what the totals were before this round's input.
            Map<Integer, Long> roundStart = committedEnds(kafka, out);
            Map<String, Long> totalsBefore = deposits.totals();
            deposits.produce(kafka, in, 20_000);
            List<String> args = new ArrayList<>(List.of(common));
            args.addAll(List.of("--parallelism", Integer.toString(1 + round % 2)));
            Process job = ExampleRun.startProcess(log, args.toArray(new String[0]));
            try {
                awaitRoundProgress(round, out, roundStart, totalsBefore, job, log);
                deposits.produce(kafka, in, 5_000); // arrives while the job runs
                Thread.sleep(killAfterMillis[round]);
            } finally {
                job.destroyForcibly(); // SIGKILL
                job.waitFor(30, TimeUnit.SECONDS);
            }
        }
        int kills = killAfterMillis.length;
        deposits.produce(kafka, in, 10_000);

        List<String> finalRun = new ArrayList<>(List.of(common));
        finalRun.addAll(List.of("--parallelism", "3", "--bounded"));
        ExampleRun run = ExampleRun.of(finalRun.toArray(new String[0]));

        // Every run has ended: all that was committed is below the last stable offsets.
        Deposits.Check check = deposits.check(KAFKA.bootstrapServers(), out, dlq);
        ReliabilityResult.of(
                        ReliabilityScenario.STATEFUL_TOTAL_KILLS,
                        "stateful-total on Kafka changelog state, "
                                + kills
                                + " SIGKILLs of the job JVM (each after that round's input"
                                + " was committed), final bounded run without a Flink checkpoint")
                .recordsIn(deposits.records())
                .lost(check.lost())
                .duplicated(check.duplicated())
                .restarts(kills)
                .deadLetters(check.letters().size())
                .seed(SEED)
                .detail(check.detail())
                .verify(
                        () -> {
                            assertThat(run.exitCode()).as(run.all()).isZero();
                            check.assertExact();
                        });
    }

    /** The last stable offsets of {@code topic} (none while it does not exist). */
    private static Map<Integer, Long> committedEnds(KafkaTestClient kafka, String topic)
            throws Exception {
        if (!kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) {
            return Map.of();
        }
        return kafka.endOffsets(topic, true);
    }

    /**
     * Waits (bounded) until this round's process has committed a total that includes input produced
     * in this round: a record past the round's starting last stable offsets whose total is above
     * the account's total before the round. The last stable offset alone moving is not enough:
     * aborting the killed process's open transactions moves it too.
     */
    private static void awaitRoundProgress(
            int round,
            String out,
            Map<Integer, Long> roundStart,
            Map<String, Long> totalsBefore,
            Process job,
            File log)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ROUND_TIMEOUT_SECONDS);
        long committedSinceStart = 0;
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                throw new AssertionError(
                        "round "
                                + round
                                + ": the job process exited with "
                                + job.exitValue()
                                + " before it was killed; see "
                                + log);
            }
            if (KAFKA.client()
                    .admin()
                    .listTopics()
                    .names()
                    .get(30, TimeUnit.SECONDS)
                    .contains(out)) {
                List<ConsumerRecord<String, String>> since =
                        CommittedOutput.read(KAFKA.bootstrapServers(), out, roundStart);
                committedSinceStart = since.size();
                for (ConsumerRecord<String, String> r : since) {
                    if (Long.parseLong(r.value()) > totalsBefore.getOrDefault(r.key(), 0L)) {
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "round "
                        + round
                        + ": within "
                        + ROUND_TIMEOUT_SECONDS
                        + " s the job committed no total that includes this round's input"
                        + " (committed records past the round's start "
                        + roundStart
                        + ": "
                        + committedSinceStart
                        + "); see "
                        + log);
    }
}
