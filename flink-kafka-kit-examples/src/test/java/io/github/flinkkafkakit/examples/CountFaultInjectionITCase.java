package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.history.KeyedHistory;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The count job under repeated task failures, in the style of Flink's failure ITCases: 1,000,000
 * records over 10,000 Zipf-like keys, parallelism 2, and a map before the count that throws at 5
 * record positions drawn with a fixed seed (each position once, in the attempt it belongs to). The
 * restart strategy allows exactly as many restarts as failures, so one unexpected failure fails the
 * job. The whole committed output is read back ({@code read_committed}, to the end offsets) and
 * checked as a history: exactly-once ⇒ every key's committed counts are prefix counts of its input
 * at strictly increasing positions ending at its input count (a replayed or double-counted output
 * fails), and the job restarted once per failure; at-least-once ⇒ nothing is missing, the replayed
 * outputs seen in the history are reported as duplicates.
 *
 * <p>Scale: {@code -Dfkk.reliability.records=N -Dfkk.reliability.failures=F} (profile {@code
 * reliability-heavy}).
 */
class CountFaultInjectionITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int KEYS = 10_000;

    /** The seed of the failure positions. */
    private static final long FAILURE_SEED = 42;

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Guarantee.class,
            names = {"EXACTLY_ONCE", "AT_LEAST_ONCE"})
    void shouldKeepEveryCountThroughInjectedTaskFailures(Guarantee guarantee) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("faults-in", 4);
        String out = kafka.createUniqueTopic("faults-out", 4);
        long records = CountInput.records();
        int failures = CountInput.failures();
        CountInput input = CountInput.produce(kafka, in, records, KEYS);
        FailAt.arm(failurePoints(records, failures, FAILURE_SEED));

        StreamExecutionEnvironment env = environment(guarantee, failures);
        CountExample.Settings settings =
                new CountExample.Settings(
                        in, out, "g-" + in, guarantee, true, EmitPolicy.ON_CHECKPOINT);
        CountExample.buildPipeline(
                env,
                KafkaConnection.of(KAFKA.bootstrapServers()),
                settings,
                keys -> keys.map(new FailAt()).name("inject failures"));
        env.execute("count with " + failures + " injected failures");

        // The job has ended: everything it will ever commit is below the last stable offsets.
        List<ConsumerRecord<String, String>> output =
                CommittedOutput.read(KAFKA.bootstrapServers(), out);
        KeyedHistory.Verdict history = input.history(output).checkRunningTotals(false);
        int restarts = FailAt.MAX_ATTEMPT.get();
        boolean exactlyOnce = guarantee == Guarantee.EXACTLY_ONCE;
        // Under at-least-once a restored count may also over-count (records after a barrier are
        // in the snapshot and replayed): loss is then judged by the last counts, which must
        // reach the input's.
        CountInput.Outcome last = input.compare(CountInput.lastValues(output));
        long lost = exactlyOnce ? history.lost() : last.lost();
        ReliabilityResult.of(
                        exactlyOnce
                                ? ReliabilityScenario.COUNT_FAULTS_EXACTLY_ONCE
                                : ReliabilityScenario.COUNT_FAULTS_AT_LEAST_ONCE,
                        String.format(
                                "count, %s, parallelism 2, %d injected task failures, %,d keys",
                                guarantee, failures, KEYS))
                .recordsIn(records)
                .lost(lost)
                .duplicated(history.duplicatedOrWrong())
                .restarts(restarts)
                .seed("failures " + FAILURE_SEED + ", input " + CountInput.SEED)
                .detail(
                        String.format(
                                "%,d committed outputs over %,d keys; %,d repeat a count already"
                                        + " emitted, %,d are no count of the input so far",
                                history.outputs(),
                                history.keys(),
                                history.duplicated(),
                                history.wrong()))
                .verify(
                        () -> {
                            assertThat(FailAt.INJECTED.get())
                                    .as("failures injected")
                                    .isEqualTo(failures);
                            assertThat(restarts)
                                    .as("restarts observed (attempts) = injected failures")
                                    .isEqualTo(failures);
                            assertThat(history.unexpectedKeys())
                                    .as("keys never input: %s", history)
                                    .isZero();
                            assertThat(lost).as("records lost: %s", history).isZero();
                            if (exactlyOnce) {
                                assertThat(history.duplicatedOrWrong())
                                        .as(
                                                "committed counts replayed or counted twice: %s",
                                                history)
                                        .isZero();
                                assertThat(history.isExact()).as(history.toString()).isTrue();
                            }
                        });
    }

    /** {@code failures} distinct positions in the middle 90 % of the input, sorted. */
    static long[] failurePoints(long records, int failures, long seed) {
        Random random = new Random(seed);
        long[] points = new long[failures];
        for (int i = 0; i < failures; i++) {
            points[i] = records / 20 + (long) (random.nextDouble() * (records * 9 / 10));
        }
        Arrays.sort(points);
        return points;
    }

    /**
     * Checkpoints every 200 ms with the guarantee's mode; restarts at most {@code failures} times,
     * 100 ms apart, so any failure beyond the injected ones fails the job.
     */
    static StreamExecutionEnvironment environment(Guarantee guarantee, int failures) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, failures);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200, guarantee.checkpointingMode());
        return env;
    }

    /**
     * Throws when the records seen by all subtasks of all attempts reach the next failure point, in
     * the attempt that point belongs to (attempt k injects failure k), so each point fails the job
     * exactly once even when two subtasks pass it at the same time. Remembers the highest attempt
     * number seen: the number of restarts.
     */
    static final class FailAt extends RichMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        static final AtomicLong SEEN = new AtomicLong();
        static final AtomicInteger INJECTED = new AtomicInteger();
        static final AtomicInteger MAX_ATTEMPT = new AtomicInteger();
        static volatile AtomicLongArray points = new AtomicLongArray(0);

        private transient int attempt;

        static void arm(long[] failurePoints) {
            SEEN.set(0);
            INJECTED.set(0);
            MAX_ATTEMPT.set(0);
            points = new AtomicLongArray(failurePoints);
        }

        @Override
        public void open(OpenContext openContext) {
            attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            MAX_ATTEMPT.accumulateAndGet(attempt, Math::max);
        }

        @Override
        public String map(String key) {
            long seen = SEEN.incrementAndGet();
            int next = INJECTED.get();
            if (next == attempt
                    && next < points.length()
                    && seen >= points.get(next)
                    && INJECTED.compareAndSet(next, next + 1)) {
                throw new IllegalStateException(
                        "injected failure " + (next + 1) + " at record " + seen);
            }
            return key;
        }
    }
}
