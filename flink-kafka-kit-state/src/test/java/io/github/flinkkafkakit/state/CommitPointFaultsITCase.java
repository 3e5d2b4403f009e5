package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.state.ChangelogCheckpointSettingsITCase.Outcome;
import io.github.flinkkafkakit.state.internal.FaultPoints;
import io.github.flinkkafkakit.state.internal.FaultPoints.Action;
import io.github.flinkkafkakit.state.internal.FaultPoints.Point;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.history.KeyedHistory;
import io.github.flinkkafkakit.testing.reliability.ReliabilityCases;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static io.github.flinkkafkakit.state.ChangelogStateITCase.TOTALS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One injected failure at each commit point of the exactly-once path ({@link FaultPoints}): in a
 * Kafka-backed operator's snapshot, while the writer writes its open transaction, after its
 * pre-commit, between a completed checkpoint and its commit, and right after the commit. Each point
 * fails a running-total job once; the job then recovers either from its Flink checkpoint (a
 * restart) or from Kafka alone (a new job on the same changelog), and the whole committed output
 * history ({@code read_committed}) must be exact: every key's totals are prefix sums of its inputs
 * at strictly increasing positions, the last one the full sum — nothing lost, nothing counted
 * twice.
 */
class CommitPointFaultsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int RECORDS = 3_000;
    private static final int KEYS = 100;
    private static final int PARALLELISM = 2;

    private static MiniCluster flink;

    /** One report row for all cases: each point, recovered from a checkpoint and from Kafka. */
    private static final ReliabilityCases CASES =
            new ReliabilityCases(
                    ReliabilityScenario.CHANGELOG_COMMIT_POINT_FAULTS,
                    Arrays.stream(Point.values())
                            .flatMap(p -> Stream.of("checkpoint/" + p, "kafka/" + p))
                            .toList());

    private final KeyedHistory<String> history = new KeyedHistory<>();

    @BeforeAll
    static void startFlink() throws Exception {
        flink = ChangelogCheckpointSettingsITCase.startMiniCluster();
    }

    @AfterAll
    static void stopFlink() throws Exception {
        if (flink != null) {
            flink.close();
        }
    }

    @AfterEach
    void disarm() {
        FaultPoints.disarm();
    }

    /**
     * The nth time each point is reached, so that the fault comes after the first commit and well
     * before the end of input: the operator's snapshot is reached by both subtasks per checkpoint,
     * the writer sends a few hundred records per checkpoint.
     */
    private static int nth(Point point) {
        switch (point) {
            case OPERATOR_SNAPSHOT:
                return 4;
            case WRITER_SEND:
                return 400;
            default:
                return 2;
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Point.class)
    void shouldStayExactWhenTheJobFailsOnceAndRestartsFromItsCheckpoint(Point point)
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = produceInput(kafka, "faults-ckp-" + point);
        String out = KafkaTestClient.uniqueTopicName("faults-ckp-out");
        String state = KafkaTestClient.uniqueTopicName("faults-ckp-state");

        int firedBefore = FaultPoints.fired(point);
        FaultPoints.arm(point, nth(point), Action.THROW);
        Outcome outcome =
                ChangelogCheckpointSettingsITCase.run(
                        flink, totals(in, out, state, 1), "restart at " + point);

        int fired = FaultPoints.fired(point) - firedBefore;
        KeyedHistory.Verdict verdict = history(out);
        CASES.check(
                "checkpoint/" + point,
                RECORDS,
                verdict.lost(),
                verdict.duplicatedOrWrong(),
                outcome.maxAttempt(),
                -1,
                "restart from its checkpoint after " + point + ": " + verdict.outputs() + " totals",
                () -> {
                    assertThat(outcome.failure())
                            .as("job failure: %s", rootCause(outcome))
                            .isNull();
                    assertThat(outcome.result().isSuccess()).as("job finished").isTrue();
                    assertThat(fired).as("faults fired").isEqualTo(1);
                    assertThat(outcome.maxAttempt()).as("restarts").isEqualTo(1);
                    assertExact(verdict);
                });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Point.class)
    void shouldStayExactWhenTheJobFailsAndANewJobRestartsFromKafkaAlone(Point point)
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = produceInput(kafka, "faults-kafka-" + point);
        String out = KafkaTestClient.uniqueTopicName("faults-kafka-out");
        String state = KafkaTestClient.uniqueTopicName("faults-kafka-state");

        int firedBefore = FaultPoints.fired(point);
        FaultPoints.arm(point, nth(point), Action.THROW);
        Outcome failed =
                ChangelogCheckpointSettingsITCase.run(
                        flink, totals(in, out, state, 0), "fail at " + point);
        assertThat(FaultPoints.fired(point) - firedBefore).as("faults fired").isEqualTo(1);
        assertThat(failed.result().isSuccess()).as("first job succeeded").isFalse();
        assertThat(ExceptionUtils.findThrowable(failed.failure(), FaultPoints.InjectedFault.class))
                .as("first job's failure: %s", failed.failure())
                .isPresent();
        assertThat(failed.maxAttempt()).as("restarts of the first job").isZero();

        FaultPoints.disarm();
        Outcome resumed =
                ChangelogCheckpointSettingsITCase.run(
                        flink, totals(in, out, state, 0), "resume after " + point);
        KeyedHistory.Verdict verdict = history(out);
        CASES.check(
                "kafka/" + point,
                RECORDS,
                verdict.lost(),
                verdict.duplicatedOrWrong(),
                1,
                -1,
                "new job from Kafka alone after " + point + ": " + verdict.outputs() + " totals",
                () -> {
                    assertThat(resumed.failure())
                            .as("second job's failure: %s", rootCause(resumed))
                            .isNull();
                    assertThat(resumed.result().isSuccess()).as("second job finished").isTrue();
                    assertExact(verdict);
                });
    }

    @AfterAll
    static void report() throws Exception {
        CASES.report(
                "running total on Kafka changelog state (exactly-once, p=2), one injected failure"
                        + " at each commit point, recovered from its checkpoint and, separately,"
                        + " by a new job from Kafka alone",
                "input per point (fixed)");
    }

    private static String rootCause(Outcome outcome) {
        return outcome.failure() == null ? "none" : Outcome.rootOf(outcome.failure()).toString();
    }

    /** Reads the whole committed output and checks it against the inputs. */
    private KeyedHistory.Verdict history(String out) {
        List<ConsumerRecord<String, String>> committed =
                CommittedOutput.read(KAFKA.bootstrapServers(), out);
        for (ConsumerRecord<String, String> r : committed) {
            history.output(r.key(), Long.parseLong(r.value()));
        }
        return history.checkRunningTotals(false);
    }

    private static void assertExact(KeyedHistory.Verdict verdict) {
        assertThat(verdict.isExact()).as(verdict.toString()).isTrue();
        assertThat(verdict.keys()).as("keys").isEqualTo(KEYS);
    }

    /**
     * {@value #RECORDS} deposits of 1..99 (never 0: a total that does not move would hide a
     * replayed one) over {@value #KEYS} keys to a new 3-partition topic, recorded as the history's
     * inputs in order (a key's records all go to one partition).
     */
    private String produceInput(KafkaTestClient kafka, String prefix) {
        String in = kafka.createUniqueTopic(prefix.toLowerCase().replace('_', '-'), 3);
        Random random = new Random(prefix.hashCode());
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            String key = "k" + (i < KEYS ? i : random.nextInt(KEYS));
            long amount = 1 + random.nextInt(99);
            batch.add(KeyValue.of(key, Long.toString(amount)));
            history.input(key, amount);
        }
        kafka.produce(in, batch);
        return in;
    }

    /**
     * The bounded exactly-once totals job at parallelism 2, checkpoints every 200 ms, restarting at
     * most {@code restarts} times (0: none, a failure fails the job). Input is slowed down a little
     * so that a run spans several checkpoints.
     */
    private static StreamExecutionEnvironment totals(
            String in, String out, String state, int restarts) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        if (restarts == 0) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        } else {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restarts);
            conf.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofMillis(100));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                Deposits.boundedSource(connection, in, "faults-" + state);
        ChangelogPipeline<Tuple2<String, Long>> job =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(state)
                        .build()
                        .pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().map(new Slow()).returns(TOTALS).keyBy(t -> t.f0, Types.STRING),
                        new RunningTotal(),
                        TOTALS);
        job.writeOutput(totals, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        return env;
    }

    /** Sleeps 1 ms every 2 records, so that a run takes a second or two (several checkpoints). */
    static final class Slow implements MapFunction<Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient int seen;

        @Override
        public Tuple2<String, Long> map(Tuple2<String, Long> value) throws Exception {
            if (++seen % 2 == 0) {
                Thread.sleep(1);
            }
            return value;
        }
    }
}
