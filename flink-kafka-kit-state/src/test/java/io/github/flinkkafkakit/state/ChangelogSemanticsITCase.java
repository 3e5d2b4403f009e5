package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Tombstones, map state, the changelog reader, and changes invisible before their checkpoint. */
class ChangelogSemanticsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /**
     * Per key: the sum of values and the set of distinct values seen (map state); the value {@code
     * "clear"} clears both.
     */
    static class SumAndDistinct
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> sum;
        private transient MapState<String, Boolean> seen;

        @Override
        public void open(OpenContext context) {
            sum = valueState("sum", Types.LONG);
            seen = mapState("seen", Types.STRING, Types.BOOLEAN);
        }

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out)
                throws Exception {
            if (in.f1.equals("clear")) {
                sum.clear();
                seen.clear();
                return;
            }
            Long current = sum.value();
            sum.update((current == null ? 0 : current) + Long.parseLong(in.f1));
            seen.put(in.f1, true);
        }

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, String>> out)
                throws Exception {
            List<String> values = new ArrayList<>();
            seen.keys().forEach(values::add);
            values.sort(null);
            Long s = sum.value();
            out.collect(Tuple2.of(key, (s == null ? "-" : Long.toString(s)) + " " + values));
        }
    }

    private static StreamExecutionEnvironment env(int parallelism, long checkpointMillis) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointMillis, CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    private static KafkaIn<Tuple2<String, String>> source(String topic, boolean bounded) {
        return KafkaIn.<Tuple2<String, String>>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(topic)
                .setDeserializer(KafkaDeserializers.keyValues(Serdes.string(), Serdes.string()))
                .setBounded(bounded)
                .build();
    }

    private static void runBounded(String in, String out, String state, int parallelism)
            throws Exception {
        runBounded(in, out, state, parallelism, 200, new SumAndDistinct());
    }

    /** A bounded run of {@code function} from {@code in} to {@code out} with changelog state. */
    private static void runBounded(
            String in,
            String out,
            String state,
            int parallelism,
            long checkpointMillis,
            ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> function)
            throws Exception {
        StreamExecutionEnvironment env = env(parallelism, checkpointMillis);
        ChangelogPipeline<Tuple2<String, String>> job =
                changelog(state).pipeline(env, source(in, true));
        DataStream<Tuple2<String, String>> result =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING),
                        function,
                        Types.TUPLE(Types.STRING, Types.STRING));
        job.writeOutput(result, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.string());
        env.execute(function.getClass().getSimpleName());
    }

    private static KafkaChangelog changelog(String state) {
        return KafkaChangelog.builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(state)
                .build();
    }

    @Test
    void shouldWriteTombstonesOnClearAndRestoreMapState() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("sd-in", 2);
        String out = KafkaTestClient.uniqueTopicName("sd-out");
        String state = KafkaTestClient.uniqueTopicName("sd-state");
        kafka.produce(
                in,
                List.of(
                        KeyValue.of("a", "1"),
                        KeyValue.of("a", "2"),
                        KeyValue.of("b", "5"),
                        KeyValue.of("c", "7")));
        runBounded(in, out, state, 2);
        kafka.produce(in, List.of(KeyValue.of("b", "clear"), KeyValue.of("a", "2")));
        runBounded(in, out, state, 1);

        ChangelogReader<String, Long> sums =
                ChangelogReader.of(
                        KafkaConnection.of(KAFKA.bootstrapServers()),
                        state,
                        "sum",
                        Types.STRING,
                        Types.LONG);
        assertThat(sums.readTable()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 5L, "c", 7L));
        // The map state came back from Kafka in the second run (a keeps {1, 2}); b was cleared.
        assertThat(kafka.latestValuePerKey(out))
                .containsEntry("a", "5 [1, 2]")
                .containsEntry("b", "- []")
                .containsEntry("c", "7 [7]");
        long tombstones =
                kafka.consumeAllBytes(state, Duration.ofSeconds(1)).stream()
                        .filter(r -> r.value() == null)
                        .count();
        assertThat(tombstones).as("tombstones for b's sum and b's one map entry").isEqualTo(2);
    }

    /**
     * Per key, a set of strings in map state: {@code +x} adds x, {@code -x} removes it, {@code ~x}
     * adds and removes it at once; each checkpoint emits the set.
     */
    static final class AddRemove
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;
        private transient MapState<String, Boolean> set;

        @Override
        public void open(OpenContext context) {
            set = mapState("set", Types.STRING, Types.BOOLEAN);
        }

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out)
                throws Exception {
            String member = in.f1.substring(1);
            if (in.f1.charAt(0) != '-') {
                set.put(member, true);
            }
            if (in.f1.charAt(0) != '+') {
                set.remove(member);
            }
        }

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, String>> out)
                throws Exception {
            List<String> members = new ArrayList<>();
            set.keys().forEach(members::add);
            members.sort(null);
            out.collect(Tuple2.of(key, members.toString()));
        }
    }

    /**
     * A map entry added and removed again between two checkpoints leaves no record in the changelog
     * (it had no entry there before); one the changelog holds gets its tombstone, also when it is
     * added again and removed at once, and also after a restore from Kafka.
     */
    @Test
    void shouldWriteNothingForAMapEntryAddedAndRemovedBetweenCheckpoints() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("ar-in", 1);
        String out = KafkaTestClient.uniqueTopicName("ar-out");
        String state = KafkaTestClient.uniqueTopicName("ar-state");
        kafka.produce(
                in,
                List.of(KeyValue.of("a", "+1"), KeyValue.of("a", "+2"), KeyValue.of("a", "~3")));
        runBounded(in, out, state, 1, 60_000, new AddRemove()); // one flush, at the end
        // Restarted from Kafka alone: 1 and 2 are there, 3 never was.
        kafka.produce(
                in,
                List.of(
                        KeyValue.of("a", "~1"),
                        KeyValue.of("a", "~4"),
                        KeyValue.of("a", "-2"),
                        KeyValue.of("a", "+5")));
        runBounded(in, out, state, 1, 60_000, new AddRemove());
        kafka.produce(in, List.of(KeyValue.of("a", "~6")));
        runBounded(in, out, state, 1, 60_000, new AddRemove());

        assertThat(kafka.consumeAll(out).stream().map(ConsumerRecord::value))
                .containsExactly("[1, 2]", "[5]", "[5]");
        List<ConsumerRecord<byte[], byte[]>> changelog = kafka.consumeAllBytes(state);
        Map<String, List<String>> history = new TreeMap<>();
        for (String member : List.of("1", "2", "3", "4", "5", "6")) {
            DataOutputSerializer serialized = new DataOutputSerializer(8);
            StringSerializer.INSTANCE.serialize(member, serialized);
            byte[] suffix = serialized.getCopyOfBuffer();
            history.put(member, recordsEndingWith(changelog, suffix));
        }
        assertThat(history)
                .containsExactlyEntriesOf(
                        new TreeMap<>(
                                Map.of(
                                        "1", List.of("entry", "tombstone"),
                                        "2", List.of("entry", "tombstone"),
                                        "3", List.of(),
                                        "4", List.of(),
                                        "5", List.of("entry"),
                                        "6", List.of())));
    }

    /** A processing-time far ahead (2100-01-01): timers at {@code AHEAD + n} never fire here. */
    private static final long AHEAD = 4_102_444_800_000L;

    /**
     * Processing-time timers per key: {@code +n} registers one at {@code AHEAD + n}, {@code -n}
     * deletes it, {@code ~n} registers and deletes it at once; echoes each input, and a timer that
     * fires.
     */
    static final class FarTimers
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out) {
            long time = AHEAD + Long.parseLong(in.f1.substring(1));
            if (in.f1.charAt(0) != '-') {
                ctx.timerService().registerProcessingTimeTimer(time);
            }
            if (in.f1.charAt(0) != '+') {
                ctx.timerService().deleteProcessingTimeTimer(time);
            }
            out.collect(in);
        }

        @Override
        public void onTimer(
                long timestamp, OnTimerContext ctx, Collector<Tuple2<String, String>> out) {
            out.collect(Tuple2.of(ctx.getCurrentKey(), "fired " + (timestamp - AHEAD)));
        }
    }

    /**
     * A timer registered and deleted again between two checkpoints leaves no record in the
     * changelog; one the changelog holds gets its tombstone, also when it is registered again and
     * deleted at once after a restore from Kafka.
     */
    @Test
    void shouldWriteNothingForATimerRegisteredAndDeletedBetweenCheckpoints() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("ft-in", 1);
        String out = KafkaTestClient.uniqueTopicName("ft-out");
        String state = KafkaTestClient.uniqueTopicName("ft-state");
        List<List<String>> runs =
                List.of(List.of("+1", "+2", "~3"), List.of("~1", "~4", "-2", "+5"), List.of("~6"));
        for (List<String> run : runs) {
            kafka.produce(in, run.stream().map(v -> KeyValue.of("a", v)).toList());
            runBounded(in, out, state, 1, 60_000, new FarTimers()); // one flush, at the end
        }

        assertThat(kafka.consumeAll(out).stream().map(ConsumerRecord::value))
                .as("each input once, no timer fired")
                .containsExactlyElementsOf(runs.stream().flatMap(List::stream).toList());
        Map<Long, List<String>> history = new TreeMap<>();
        List<ConsumerRecord<byte[], byte[]>> changelog = kafka.consumeAllBytes(state);
        for (long n = 1; n <= 6; n++) {
            DataOutputSerializer entry = new DataOutputSerializer(16);
            entry.writeByte(1); // processing time
            entry.writeLong(AHEAD + n);
            VoidNamespaceSerializer.INSTANCE.serialize(VoidNamespace.INSTANCE, entry);
            history.put(n, recordsEndingWith(changelog, entry.getCopyOfBuffer()));
        }
        assertThat(history)
                .containsExactlyEntriesOf(
                        new TreeMap<>(
                                Map.of(
                                        1L, List.of("entry", "tombstone"),
                                        2L, List.of("entry", "tombstone"),
                                        3L, List.of(),
                                        4L, List.of(),
                                        5L, List.of("entry"),
                                        6L, List.of())));
    }

    /** "entry" or "tombstone" for each record whose key ends with {@code suffix}, in order. */
    private static List<String> recordsEndingWith(
            List<ConsumerRecord<byte[], byte[]>> records, byte[] suffix) {
        List<String> found = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            byte[] key = r.key();
            if (key.length > suffix.length
                    && Arrays.equals(
                            key,
                            key.length - suffix.length,
                            key.length,
                            suffix,
                            0,
                            suffix.length)) {
                found.add(r.value() == null ? "tombstone" : "entry");
            }
        }
        return found;
    }

    /**
     * Per key: the total and the amount since the last checkpoint, which {@code onCheckpoint} emits
     * and resets — a state change made at the checkpoint itself.
     */
    static final class DeltaPerCheckpoint
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> total;
        private transient ValueState<Long> sinceLast;

        @Override
        public void open(OpenContext context) {
            total = valueState("total", Types.LONG);
            sinceLast = valueState("sinceLast", Types.LONG);
        }

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out)
                throws Exception {
            long v = Long.parseLong(in.f1);
            Long t = total.value();
            total.update((t == null ? 0 : t) + v);
            Long d = sinceLast.value();
            sinceLast.update((d == null ? 0 : d) + v);
        }

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, String>> out)
                throws Exception {
            Long delta = sinceLast.value();
            sinceLast.update(0L);
            out.collect(
                    Tuple2.of(key, total.value() + " +" + delta + " then " + sinceLast.value()));
        }
    }

    @Test
    void shouldWriteStateChangedInOnCheckpointWithTheSameCheckpoint() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("delta-in", 1);
        String out = KafkaTestClient.uniqueTopicName("delta-out");
        String state = KafkaTestClient.uniqueTopicName("delta-state");
        kafka.produce(
                in, List.of(KeyValue.of("a", "1"), KeyValue.of("a", "2"), KeyValue.of("b", "5")));
        runBounded(in, out, state, 1, 60_000, new DeltaPerCheckpoint()); // one flush, at the end
        // The value read after the reset is the reset one, not the value written before it.
        assertThat(kafka.latestValuePerKey(out))
                .containsEntry("a", "3 +3 then 0")
                .containsEntry("b", "5 +5 then 0");
        ChangelogReader<String, Long> deltas =
                ChangelogReader.of(
                        KafkaConnection.of(KAFKA.bootstrapServers()),
                        state,
                        "sinceLast",
                        Types.STRING,
                        Types.LONG);
        assertThat(deltas.readTable()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 0L, "b", 0L));

        // Restarted from Kafka alone: the delta starts from the reset value.
        kafka.produce(in, List.of(KeyValue.of("a", "10")));
        runBounded(in, out, state, 1, 60_000, new DeltaPerCheckpoint()); // one flush, at the end
        assertThat(kafka.latestValuePerKey(out))
                .containsEntry("a", "13 +10 then 0")
                .containsEntry("b", "5 +5 then 0");
    }

    /**
     * Runs {@code function} over {@code input} (new topics named after {@code name}), expecting the
     * job to fail; returns the message of the {@link IllegalStateException} it failed with.
     */
    private static String failureOf(
            String name,
            List<KeyValue<String, String>> input,
            ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> function) {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic(name + "-in", 1);
        kafka.produce(in, input);
        Throwable failure =
                catchThrowable(
                        () ->
                                runBounded(
                                        in,
                                        KafkaTestClient.uniqueTopicName(name + "-out"),
                                        KafkaTestClient.uniqueTopicName(name + "-state"),
                                        1,
                                        200,
                                        function));
        return ExceptionUtils.findThrowable(failure, IllegalStateException.class)
                .orElseThrow(() -> new AssertionError("no IllegalStateException in " + failure))
                .getMessage();
    }

    /** Dead-letters every value "x". */
    static final class RejectX
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out) {
            if (in.f1.equals("x")) {
                deadLetter(null, null, new IllegalArgumentException("x is not allowed"));
            }
        }
    }

    /** Without a dead-letter topic the job fails at once, naming the fix (no silent drop). */
    @Test
    void shouldFailClearlyWhenDeadLetteringWithoutADeadLetterTopic() {
        assertThat(
                        failureOf(
                                "reject",
                                List.of(KeyValue.of("a", "1"), KeyValue.of("a", "x")),
                                new RejectX()))
                .isEqualTo(
                        "deadLetter(...) needs a dead-letter topic: give the source"
                                + " ErrorPolicy.deadLetter(topic)");
    }

    /** Keeps a state value of about 1.1 MB per key. */
    static final class HugeValue
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<String> last;

        @Override
        public void open(OpenContext context) {
            last = valueState("last", Types.STRING);
        }

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out)
                throws Exception {
            last.update(in.f1.repeat(1_100_000));
        }
    }

    /**
     * A state change larger than the writer can send fails the job with the state's name and the
     * fix, not with Kafka's RecordTooLargeException from the writer.
     */
    @Test
    void shouldFailClearlyOnAChangeLargerThanARecord() {
        assertThat(failureOf("huge", List.of(KeyValue.of("a", "x")), new HugeValue()))
                .startsWith("Changelog state 'last': a change of 1,100,0")
                .contains("raise max.request.size on the connection");
    }

    /**
     * Holds the first checkpoint open (its snapshot blocks) so its changes are written to Kafka but
     * not committed: read_uncommitted sees them, read_committed does not — until the checkpoint
     * completes.
     */
    @Test
    void shouldKeepChangesInvisibleToReadCommittedUntilTheirCheckpointCompletes() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("inv-in", 1);
        String out = KafkaTestClient.uniqueTopicName("inv-out");
        String state = KafkaTestClient.uniqueTopicName("inv-state");
        kafka.produce(in, List.of(KeyValue.of("a", "1"), KeyValue.of("b", "2")));
        CountDownLatch release = new CountDownLatch(1);
        System.getProperties().put(HoldFirstCheckpoint.LATCH, release);

        StreamExecutionEnvironment env = env(1, 300);
        ChangelogPipeline<Tuple2<String, String>> job =
                changelog(state).pipeline(env, source(in, false));
        DataStream<Tuple2<String, String>> result =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING),
                        new HoldFirstCheckpoint(),
                        Types.TUPLE(Types.STRING, Types.STRING));
        job.writeOutput(result, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.string());
        JobClient client = env.executeAsync("held checkpoint");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (count(state, "read_uncommitted") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(count(state, "read_uncommitted")).as("written to Kafka").isPositive();
            assertThat(count(state, "read_committed")).as("visible before commit").isZero();

            release.countDown();
            while (count(state, "read_committed") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(count(state, "read_committed")).as("visible after commit").isPositive();
        } finally {
            release.countDown();
            client.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    /** Remembers the last value per key for one second. */
    static final class LastValueWithTtl
            extends ChangelogFunction<String, Tuple2<String, String>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<String> last;

        @Override
        public void open(OpenContext context) {
            last = valueState("last", Types.STRING, Duration.ofSeconds(1));
        }

        @Override
        public void processElement(
                Tuple2<String, String> in, Context ctx, Collector<Tuple2<String, String>> out)
                throws Exception {
            last.update(in.f1);
        }
    }

    @Test
    void shouldWriteATombstoneWhenAValueExpires() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("ttl-in", 1);
        String state = KafkaTestClient.uniqueTopicName("ttl-state");
        kafka.produce(in, List.of(KeyValue.of("a", "1"), KeyValue.of("b", "2")));

        StreamExecutionEnvironment env = env(1, 200);
        ChangelogPipeline<Tuple2<String, String>> job =
                changelog(state).pipeline(env, source(in, false));
        job.process(
                job.source().keyBy(t -> t.f0, Types.STRING),
                new LastValueWithTtl(),
                Types.TUPLE(Types.STRING, Types.STRING));
        job.attach();
        JobClient client = env.executeAsync("ttl");
        ChangelogReader<String, String> reader =
                ChangelogReader.of(
                        KafkaConnection.of(KAFKA.bootstrapServers()),
                        state,
                        "last",
                        Types.STRING,
                        Types.STRING);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean seen = false;
            while (System.nanoTime() < deadline) {
                Map<String, String> table = reader.readTable();
                seen |= table.equals(Map.of("a", "1", "b", "2"));
                if (seen && table.isEmpty()) {
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(seen).as("values written").isTrue();
            assertThat(reader.readTable()).as("values expired").isEmpty();
            assertThat(
                            kafka.consumeAllBytes(state, Duration.ofSeconds(1)).stream()
                                    .filter(r -> r.value() == null)
                                    .count())
                    .as("one tombstone per expired key")
                    .isEqualTo(2);
        } finally {
            client.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    private static int count(String topic, String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic)
                    .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            int n = 0;
            for (int i = 0; i < 5; i++) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    n++;
                }
            }
            return n;
        }
    }

    /**
     * {@link SumAndDistinct} that, before the first checkpoint's barrier, blocks after its changes
     * went to the writer, until the test counts down the latch: checkpoint 1 stays open.
     */
    static final class HoldFirstCheckpoint extends SumAndDistinct {
        private static final long serialVersionUID = 1L;
        static final String LATCH = "fkk.test.hold-first-checkpoint";
        private transient boolean held;

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, String>> out)
                throws Exception {
            if (!held) {
                held = true;
                ((CountDownLatch) System.getProperties().get(LATCH)).await(60, TimeUnit.SECONDS);
            }
            super.onCheckpoint(key, out);
        }
    }
}
