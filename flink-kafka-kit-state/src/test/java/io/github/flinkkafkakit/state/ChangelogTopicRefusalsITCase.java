package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.preflight.PreflightException;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Changelog topics the job must not use: one whose partition count changed since its state was
 * written (its key groups' records would be looked for in other partitions) fails the start once,
 * although restarts are configured, naming both counts, and leaves state, positions and output as
 * they were; a changelog or positions topic that is not compacted (retention would delete state) is
 * refused before the job is built. The max parallelism changed between runs is {@link
 * ChangelogIdentityITCase}'s.
 */
class ChangelogTopicRefusalsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** One Flink cluster for the class's two jobs (instead of a local cluster per job). */
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(4)
                            .build());

    static final TypeInformation<Tuple2<String, Long>> TOTALS =
            Types.TUPLE(Types.STRING, Types.LONG);

    private static final Duration REFUSAL_WITHIN = Duration.ofSeconds(60);
    private static final int KEYS = 20;

    private final KafkaTestClient kafka = KAFKA.client();

    /**
     * The totals job, bounded, not started: checkpoints every 200 ms, restarts without end for an
     * ordinary failure.
     */
    private static StreamExecutionEnvironment totals(
            String in, String out, String state, String positions) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                Deposits.boundedSource(connection, in, "totals-" + state);
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(state)
                        .setPositionsTopic(positions)
                        .setPartitions(2)
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
        job.writeOutput(totals, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        return env;
    }

    private void deposit(String topic, int records) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            batch.add(KeyValue.of("k" + i % KEYS, "1"));
        }
        kafka.produce(topic, batch);
    }

    /** Per topic, each committed record's partition, key and value (read_committed). */
    private Map<String, List<String>> contents(String... topics) {
        HexFormat hex = HexFormat.of();
        Map<String, List<String>> contents = new LinkedHashMap<>();
        for (String topic : topics) {
            List<String> records = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : kafka.consumeAllBytes(topic, Duration.ZERO)) {
                records.add(
                        r.partition()
                                + ":"
                                + (r.key() == null ? "null" : hex.formatHex(r.key()))
                                + "="
                                + (r.value() == null ? "null" : hex.formatHex(r.value())));
            }
            contents.put(topic, records);
        }
        return contents;
    }

    @Test
    void shouldRefuseAChangelogWhosePartitionCountChanged() throws Exception {
        String in = kafka.createUniqueTopic("parts-in", 2);
        String out = KafkaTestClient.uniqueTopicName("parts-out");
        String state = KafkaTestClient.uniqueTopicName("parts-state");
        String positions = state + "-positions";
        deposit(in, 5 * KEYS);
        totals(in, out, state, positions).execute("totals over 2 changelog partitions");
        Map<String, String> each5 = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            each5.put("k" + k, "5");
        }
        assertThat(new TreeMap<>(kafka.latestValuePerKey(out, Duration.ZERO))).isEqualTo(each5);

        kafka.admin()
                .createPartitions(Map.of(state, NewPartitions.increaseTo(4)))
                .all()
                .get(30, TimeUnit.SECONDS);
        kafka.waitForLeaders(state, 4);
        deposit(in, 5 * KEYS);
        Map<String, List<String>> before = contents(state, positions, out);

        JobClient refused = totals(in, out, state, positions).executeAsync("4 partitions now");
        Throwable failure = null;
        try {
            refused.getJobExecutionResult().get(REFUSAL_WITHIN.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            failure = e;
        } catch (TimeoutException e) {
            refused.cancel().get(1, TimeUnit.MINUTES);
        }

        assertThat(failure)
                .as("refused; totals now %s", kafka.latestValuePerKey(out, Duration.ZERO))
                .isNotNull();
        StringBuilder messages = new StringBuilder();
        boolean suppressed = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
            suppressed |= t instanceof SuppressRestartsException;
        }
        assertThat(suppressed).as("restarts suppressed: %s", messages).isTrue();
        assertThat(messages.toString())
                .contains(
                        "Changelog topic '"
                                + state
                                + "' has 4 partitions, but its state was written to 2");
        assertThat(contents(state, positions, out)).isEqualTo(before);
    }

    @Test
    void shouldRefuseAChangelogTopicThatIsNotCompacted() {
        String in = kafka.createUniqueTopic("delete-in", 1);
        String state = KafkaTestClient.uniqueTopicName("delete-state");
        kafka.createTopic(state, 2, Map.of("cleanup.policy", "delete"));

        Throwable refused =
                catchThrowable(
                        () ->
                                totals(
                                        in,
                                        KafkaTestClient.uniqueTopicName("delete-out"),
                                        state,
                                        state + "-positions"));

        assertThat(refused)
                .isInstanceOf(PreflightException.class)
                .hasMessageContaining("Changelog topic '" + state + "' has cleanup.policy=delete")
                .hasMessageContaining("cleanup.policy=compact");
        assertThat(kafka.endOffsets(state, false)).isEqualTo(Map.of(0, 0L, 1, 0L));
    }

    @Test
    void shouldRefuseAPositionsTopicThatIsNotCompacted() {
        String in = kafka.createUniqueTopic("delete-pos-in", 1);
        String state = KafkaTestClient.uniqueTopicName("delete-pos-state");
        String positions = state + "-positions";
        kafka.createTopic(positions, 1, Map.of("cleanup.policy", "delete"));

        Throwable refused =
                catchThrowable(
                        () ->
                                totals(
                                        in,
                                        KafkaTestClient.uniqueTopicName("delete-pos-out"),
                                        state,
                                        positions));

        assertThat(refused)
                .isInstanceOf(PreflightException.class)
                .hasMessageContaining("'" + positions + "' has cleanup.policy=delete");
        assertThat(kafka.endOffsets(positions, false)).isEqualTo(Map.of(0, 0L));
    }
}
