package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * {@link ChangelogCounter#add} at the edges of a {@code long}: an add that would overflow throws
 * {@link ArithmeticException} and leaves the count as it was (in the function, in the output and in
 * the changelog), instead of wrapping around to the other end; not caught, it fails the job and
 * nothing wrapped is committed.
 */
class ChangelogCounterOverflowITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** One Flink cluster for the class's three jobs (instead of a local cluster per job). */
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(4)
                            .build());

    static final TypeInformation<Tuple2<String, Long>> COUNTS =
            Types.TUPLE(Types.STRING, Types.LONG);

    private final KafkaTestClient kafka = KAFKA.client();

    /** Adds each input's value to its key's counter; emits the counts at each checkpoint. */
    static final class Adding
            extends ChangelogFunction<String, Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private final boolean catchOverflow;
        private transient ChangelogCounter count;

        Adding(boolean catchOverflow) {
            this.catchOverflow = catchOverflow;
        }

        @Override
        public void open(OpenContext context) {
            count = counter("count");
        }

        @Override
        public void processElement(
                Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, Long>> out)
                throws Exception {
            try {
                count.add(in.f1);
            } catch (ArithmeticException e) {
                if (!catchOverflow) {
                    throw e;
                }
            }
        }

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, Long>> out) throws Exception {
            out.collect(Tuple2.of(key, count.get()));
        }
    }

    /** The counting job, bounded, no restarts: an uncaught overflow fails it. */
    private static StreamExecutionEnvironment job(
            String in, String out, String state, boolean catchOverflow) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                Deposits.boundedSource(connection, in, "counter-" + state);
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(state)
                        .setPartitions(1)
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, source);
        DataStream<Tuple2<String, Long>> counts =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING),
                        new Adding(catchOverflow),
                        COUNTS);
        job.writeOutput(counts, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        return env;
    }

    /** Each add applied where its exact sum fits a long, else skipped (the count stays). */
    private static Map<String, Long> expected(List<KeyValue<String, String>> adds) {
        Map<String, Long> counts = new TreeMap<>();
        for (KeyValue<String, String> add : adds) {
            BigInteger sum =
                    BigInteger.valueOf(counts.getOrDefault(add.key(), 0L))
                            .add(new BigInteger(add.value()));
            if (sum.bitLength() < Long.SIZE) {
                counts.put(add.key(), sum.longValue());
            }
        }
        return counts;
    }

    private ChangelogReader<String, Long> reader(String state) {
        return ChangelogReader.of(
                KafkaConnection.of(KAFKA.bootstrapServers()),
                state,
                "count",
                Types.STRING,
                Types.LONG);
    }

    private Map<String, Long> lastOutput(String out) {
        Map<String, Long> last = new TreeMap<>();
        kafka.latestValuePerKey(out, Duration.ZERO).forEach((k, v) -> last.put(k, Long.valueOf(v)));
        return last;
    }

    @Test
    void shouldRefuseAnAddThatOverflowsAndKeepTheCount() throws Exception {
        String in = kafka.createUniqueTopic("overflow-in", 1);
        String out = KafkaTestClient.uniqueTopicName("overflow-out");
        String state = KafkaTestClient.uniqueTopicName("overflow-state");
        List<KeyValue<String, String>> adds =
                List.of(
                        KeyValue.of("up", Long.toString(Long.MAX_VALUE - 5)),
                        KeyValue.of("up", "5"), // exactly Long.MAX_VALUE
                        KeyValue.of("up", "1"), // would wrap to Long.MIN_VALUE
                        KeyValue.of("down", Long.toString(Long.MIN_VALUE + 1)),
                        KeyValue.of("down", "-1"), // exactly Long.MIN_VALUE
                        KeyValue.of("down", "-1"), // would wrap to Long.MAX_VALUE
                        KeyValue.of("down", Long.toString(Long.MIN_VALUE)), // far beyond
                        KeyValue.of("plain", "3"),
                        KeyValue.of("plain", "4"));
        kafka.produce(in, adds);
        Map<String, Long> expected = expected(adds);
        assertThat(expected)
                .containsEntry("up", Long.MAX_VALUE)
                .containsEntry("down", Long.MIN_VALUE);

        job(in, out, state, true).execute("counter overflow caught");

        assertThat(lastOutput(out)).as("output").isEqualTo(expected);
        assertThat(new TreeMap<>(reader(state).readTable())).as("changelog").isEqualTo(expected);
    }

    @Test
    void shouldFailTheJobOnAnUncaughtOverflowWithoutCommittingAWrappedCount() throws Exception {
        String in = kafka.createUniqueTopic("overflow-fail-in", 1);
        String out = KafkaTestClient.uniqueTopicName("overflow-fail-out");
        String state = KafkaTestClient.uniqueTopicName("overflow-fail-state");
        kafka.produce(in, List.of(KeyValue.of("up", Long.toString(Long.MAX_VALUE))));
        job(in, out, state, false).execute("counter at the maximum");
        assertThat(reader(state).readTable()).isEqualTo(Map.of("up", Long.MAX_VALUE));

        kafka.produce(in, List.of(KeyValue.of("up", "1")));
        Throwable failure =
                catchThrowable(() -> job(in, out, state, false).execute("counter overflows"));

        assertThat(failure).as("the overflowing add fails the job").isNotNull();
        assertThat(ExceptionUtils.findThrowable(failure, ArithmeticException.class))
                .as(ExceptionUtils.stringifyException(failure))
                .isPresent();
        assertThat(reader(state).readTable()).isEqualTo(Map.of("up", Long.MAX_VALUE));
        assertThat(
                        kafka.consumeAll(out, Duration.ZERO).stream()
                                .map(ConsumerRecord::value)
                                .collect(Collectors.toList()))
                .as("every committed count")
                .containsOnly(Long.toString(Long.MAX_VALUE));
    }
}
