package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ChangelogReader#updates()} as a {@code KafkaIn} format over the changelog a job wrote in
 * two runs (the second restored from Kafka): per key, the committed values of one state in the
 * order they were written — running totals at increasing positions of the key's deposits, each
 * run's final total among them — without the other state of the same function, and without the
 * delete of an account that was closed (which {@link ChangelogReader#readTable()} no longer has).
 */
class ChangelogReaderUpdatesITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** One Flink cluster for the class's four jobs (instead of a local cluster per job). */
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(4)
                            .build());

    static final TypeInformation<Tuple2<String, Long>> PAIRS =
            Types.TUPLE(Types.STRING, Types.LONG);

    /** A deposit of 0 closes the account (both of its states cleared). */
    private static final String CLOSED = "closed";

    private final KafkaTestClient kafka = KAFKA.client();

    static final Queue<String> SEEN = new ConcurrentLinkedQueue<>();

    /** Adds {@code key=value} to {@link #SEEN} in the order read. */
    public static final class Collect implements MapFunction<Tuple2<String, Long>, Boolean> {
        @Override
        public Boolean map(Tuple2<String, Long> update) {
            return SEEN.add(update.f0 + "=" + update.f1);
        }
    }

    /** Per account: the total of its deposits and, a second state, how many there were. */
    static final class Accounts
            extends ChangelogFunction<String, Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> total;
        private transient ChangelogCounter deposits;

        @Override
        public void open(OpenContext context) {
            total = valueState("total", Types.LONG);
            deposits = counter("deposits");
        }

        @Override
        public void processElement(
                Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, Long>> out)
                throws Exception {
            if (in.f1 == 0) {
                total.clear();
                deposits.clear();
                return;
            }
            Long current = total.value();
            total.update((current == null ? 0 : current) + in.f1);
            deposits.add(1);
        }
    }

    private static void run(String in, String state) throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                Deposits.boundedSource(connection, in, "accounts-" + state);
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(state)
                        .setPartitions(2)
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, source);
        job.process(job.source().keyBy(t -> t.f0, Types.STRING), new Accounts(), PAIRS);
        job.attach();
        env.execute("accounts");
    }

    /** Per key, the values {@code updates()} of {@code stateName} emits, in order. */
    private static Map<String, List<Long>> updates(String state, String stateName)
            throws Exception {
        SEEN.clear();
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        ChangelogReader<String, Long> reader =
                ChangelogReader.of(connection, state, stateName, Types.STRING, Types.LONG);
        KafkaIn.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopics(state)
                .setStartingOffsetsEarliest()
                .setDeserializer(reader.updates())
                .setBounded(true)
                .build()
                .createStream(env)
                .map(new Collect(), Types.BOOLEAN)
                .sinkTo(new DiscardingSink<>());
        env.execute("updates of " + stateName);
        Map<String, List<Long>> byKey = new TreeMap<>();
        for (String update : SEEN) {
            int eq = update.lastIndexOf('=');
            byKey.computeIfAbsent(update.substring(0, eq), k -> new ArrayList<>())
                    .add(Long.parseLong(update.substring(eq + 1)));
        }
        return byKey;
    }

    /** Deposits of 100..104 over five accounts, and two to the account closed later. */
    private static List<KeyValue<String, String>> deposits(int rounds, int round0) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int r = round0; r < round0 + rounds; r++) {
            for (int a = 0; a < 5; a++) {
                batch.add(KeyValue.of("a" + a, Long.toString(100 + (r + a) % 5)));
            }
        }
        return batch;
    }

    /** Per key, the running totals after each deposit (a close ends the list). */
    private static Map<String, List<Long>> prefixSums(List<KeyValue<String, String>> input) {
        Map<String, List<Long>> sums = new LinkedHashMap<>();
        for (KeyValue<String, String> d : input) {
            long amount = Long.parseLong(d.value());
            List<Long> key = sums.computeIfAbsent(d.key(), k -> new ArrayList<>());
            if (amount != 0) {
                key.add((key.isEmpty() ? 0 : key.get(key.size() - 1)) + amount);
            }
        }
        return sums;
    }

    private static long last(List<Long> values) {
        return values.get(values.size() - 1);
    }

    @Test
    void shouldStreamEachCommittedValueOfOneStateInOrderWithoutDeletes() throws Exception {
        String in = kafka.createUniqueTopic("accounts-in", 2);
        String state = KafkaTestClient.uniqueTopicName("accounts-state");
        List<KeyValue<String, String>> first = deposits(20, 0);
        first.add(KeyValue.of(CLOSED, "500"));
        first.add(KeyValue.of(CLOSED, "700"));
        List<KeyValue<String, String>> second = deposits(20, 20);
        second.add(KeyValue.of(CLOSED, "0"));

        kafka.produce(in, first);
        run(in, state);
        kafka.produce(in, second);
        run(in, state);

        List<KeyValue<String, String>> all = new ArrayList<>(first);
        all.addAll(second);
        Map<String, List<Long>> afterFirst = prefixSums(first);
        Map<String, List<Long>> sums = prefixSums(all);
        Map<String, List<Long>> totals = updates(state, "total");

        assertThat(totals.keySet()).isEqualTo(sums.keySet());
        for (Map.Entry<String, List<Long>> key : totals.entrySet()) {
            List<Long> values = key.getValue();
            List<Long> possible = sums.get(key.getKey());
            assertThat(possible).as("running totals of %s", key.getKey()).containsAll(values);
            assertThat(values)
                    .as("%s: strictly increasing, so in the order written", key.getKey())
                    .isSorted()
                    .doesNotHaveDuplicates();
            assertThat(values)
                    .as("%s: the end of the first run", key.getKey())
                    .contains(last(afterFirst.get(key.getKey())));
            assertThat(last(values))
                    .as("%s: the last total", key.getKey())
                    .isEqualTo(last(possible));
        }

        // The closed account's delete is skipped by updates(), applied by readTable().
        Map<String, Long> table =
                new TreeMap<>(
                        ChangelogReader.of(
                                        KafkaConnection.of(KAFKA.bootstrapServers()),
                                        state,
                                        "total",
                                        Types.STRING,
                                        Types.LONG)
                                .readTable());
        Map<String, Long> open = new TreeMap<>();
        sums.forEach((k, v) -> open.put(k, last(v)));
        open.remove(CLOSED);
        assertThat(table).isEqualTo(open);

        // The other state of the same function, read on its own.
        Map<String, List<Long>> counts = updates(state, "deposits");
        assertThat(counts.keySet()).isEqualTo(sums.keySet());
        counts.forEach(
                (k, v) ->
                        assertThat(last(v)).as("deposits of %s", k).isEqualTo(sums.get(k).size()));
    }
}
