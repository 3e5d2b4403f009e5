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
 * {@code enrich} (two sources, Flink state and event-time timers in Kafka) in its own JVM at
 * parallelism 2, killed by the job itself ({@link FaultPoints}, {@code HALT}: like SIGKILL) after
 * its first commit while input keeps arriving, right after a pre-commit or between a completed
 * checkpoint and its commit; then more input and a bounded run at parallelism 3 from Kafka alone
 * (no Flink checkpoint): every click in the committed output exactly once with the profile version
 * in effect at its time, every malformed and late record in the dead-letter topic once.
 */
class EnrichCommitPointKillITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long SEED = 13;

    private static final CommitPointKills KILLS =
            new CommitPointKills(
                    ReliabilityScenario.ENRICH_COMMIT_POINT_KILLS,
                    Point.AFTER_PRE_COMMIT,
                    Point.BEFORE_COMMIT);

    /**
     * The nth time the point is reached in the killed JVM (each checkpoint with input reaches it
     * once per subtask): the third checkpoint's pre-commit, the second checkpoint's commit. The
     * test checks that the killed run had committed state.
     */
    private static int nth(Point point) {
        return point == Point.AFTER_PRE_COMMIT ? 5 : 3;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Point.class,
            names = {"AFTER_PRE_COMMIT", "BEFORE_COMMIT"})
    void shouldEnrichEveryClickOnceAfterAKillAtACommitPointAndARestartFromKafkaAlone(Point point)
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        EnrichTopics topics = EnrichTopics.create(kafka, KAFKA.bootstrapServers(), "");
        EnrichData data = new EnrichData(SEED);
        topics.write(data, kafka, 2_000);
        File log = new File(System.getProperty("java.io.tmpdir"), "enrich-commit-point-kill.log");
        CommitPointKills.runUntilHalted(
                point,
                nth(point),
                log,
                () -> topics.write(data, kafka, 100), // arrives while it runs
                topics.args("--parallelism", "2"));
        int waitingBeforeKill = EnrichKillITCase.waitingClickRecords(kafka, topics.state());
        int enrichedBeforeKill =
                CommittedOutput.read(KAFKA.bootstrapServers(), topics.out()).size();

        topics.write(data, kafka, 1_000);
        ExampleRun run = ExampleRun.of(topics.args("--parallelism", "3", "--bounded"));

        EnrichData.Verdict v = data.check(kafka, topics.out(), topics.dlq());
        long expectedLetters = v.malformed + v.lateDeadLetters;
        KILLS.check(
                point,
                v.clicks,
                v.missing + Math.max(0, expectedLetters - v.deadLetters),
                v.duplicated
                        + v.wrong
                        + v.unexpected
                        + Math.max(0, v.deadLetters - expectedLetters),
                v.deadLetters,
                String.format(
                        "halted at %s (reached %d times) after %,d committed waiting clicks and"
                                + " %,d enriched clicks; %s",
                        point, nth(point), waitingBeforeKill, enrichedBeforeKill, v),
                () -> {
                    assertThat(waitingBeforeKill)
                            .as("changelog records the killed run committed before %s", point)
                            .isPositive();
                    assertThat(run.exitCode()).as(run.all()).isZero();
                    assertThat(v.exact()).as(v.toString()).isTrue();
                });
    }

    @AfterAll
    static void report() throws Exception {
        KILLS.report(
                "enrich on Kafka changelog state (event-time timers), the job JVM halted by the"
                        + " hook (exit 137) once after its first commit at AFTER_PRE_COMMIT and at"
                        + " BEFORE_COMMIT, then a bounded run without a Flink checkpoint",
                SEED);
    }
}
