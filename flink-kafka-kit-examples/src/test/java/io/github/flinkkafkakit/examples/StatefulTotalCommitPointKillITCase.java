package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.state.internal.FaultPoints;
import io.github.flinkkafkakit.state.internal.FaultPoints.Point;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.File;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * stateful-total (exactly-once, Kafka changelog state) in its own JVM, killed by the job itself at
 * one commit point of the exactly-once path ({@link FaultPoints}, {@code HALT}: like SIGKILL) after
 * its first commit while input keeps arriving, then finished by a bounded run at another
 * parallelism from Kafka alone (no Flink checkpoint). The whole committed output is then checked as
 * a history: every account's totals are prefix sums of its deposits at strictly increasing
 * positions, the last one its exact total, and every invalid value is in the dead-letter topic
 * exactly once.
 */
class StatefulTotalCommitPointKillITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long SEED = 11;

    private static final CommitPointKills KILLS =
            new CommitPointKills(
                    ReliabilityScenario.STATEFUL_TOTAL_COMMIT_POINT_KILLS,
                    Point.AFTER_PRE_COMMIT,
                    Point.BEFORE_COMMIT,
                    Point.AFTER_COMMIT,
                    Point.WRITER_SEND);

    /**
     * The nth time the point is reached in the killed JVM (parallelism 2: each checkpoint with
     * input reaches a commit point once per subtask), so that the kill comes after the first
     * commit: the third checkpoint's pre-commit, the second checkpoint's commit; the writer sends a
     * few thousand records per checkpoint while input arrives. The test checks that the killed run
     * had committed totals.
     */
    private static int nth(Point point) {
        switch (point) {
            case AFTER_PRE_COMMIT:
                return 5;
            case WRITER_SEND:
                return 8_000;
            default:
                return 3;
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Point.class,
            names = {"AFTER_PRE_COMMIT", "BEFORE_COMMIT", "AFTER_COMMIT", "WRITER_SEND"})
    void shouldGiveExactTotalsAfterAKillAtACommitPointAndARestartFromKafkaAlone(Point point)
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("deposits", 3);
        String out = KafkaTestClient.uniqueTopicName("balances");
        String state = KafkaTestClient.uniqueTopicName("balances-state");
        String dlq = in + "-dlq";
        String[] common = ExampleRun.statefulTotal(KAFKA.bootstrapServers(), in, out, state);
        Deposits deposits = new Deposits(SEED);
        deposits.produce(kafka, in, 3_000);
        File log = new File(System.getProperty("java.io.tmpdir"), "commit-point-kill.log");
        CommitPointKills.runUntilHalted(
                point,
                nth(point),
                log,
                () -> deposits.produce(kafka, in, 500), // arrives while the job runs
                ExampleRun.with(common, "--parallelism", "2"));
        int committedBeforeKill = CommittedOutput.read(KAFKA.bootstrapServers(), out).size();

        deposits.produce(kafka, in, 2_000);
        ExampleRun run = ExampleRun.of(ExampleRun.with(common, "--parallelism", "3", "--bounded"));

        // Every run has ended: all that was committed is below the last stable offsets.
        Deposits.Check check = deposits.check(KAFKA.bootstrapServers(), out, dlq);
        KILLS.check(
                point,
                deposits.records(),
                check.lost(),
                check.duplicated(),
                check.letters().size(),
                String.format(
                        "halted at %s (reached %,d times) after %,d committed totals; %s",
                        point, nth(point), committedBeforeKill, check.detail()),
                () -> {
                    assertThat(committedBeforeKill)
                            .as("totals the killed run committed before %s", point)
                            .isPositive();
                    assertThat(run.exitCode()).as(run.all()).isZero();
                    check.assertExact();
                });
    }

    @AfterAll
    static void report() throws Exception {
        KILLS.report(
                "stateful-total on Kafka changelog state, the job JVM halted by the hook (exit 137)"
                        + " once after its first commit at each of AFTER_PRE_COMMIT, BEFORE_COMMIT,"
                        + " AFTER_COMMIT and WRITER_SEND, then a bounded run without a Flink"
                        + " checkpoint",
                SEED);
    }
}
