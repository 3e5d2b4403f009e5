package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.AggregatingState;
import org.apache.flink.api.common.state.AggregatingStateDescriptor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReducingState;
import org.apache.flink.api.common.state.ReducingStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Ordinary Flink functions — the state API and timers as Flink documents them — on a {@link
 * KafkaStateJob}: their state comes back from Kafka alone, at another parallelism, and each input's
 * output is in the committed output exactly once; what a restart from Kafka could not bring back is
 * refused when the job is built.
 */
class KafkaStateJobITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static KafkaConnection CONNECTION() {
        return KafkaConnection.of(KAFKA.bootstrapServers());
    }

    private static StreamExecutionEnvironment env(int parallelism) {
        return env(parallelism, "hashmap");
    }

    /** The test job's environment on {@code backend} ({@code hashmap} or {@code rocksdb}). */
    private static StreamExecutionEnvironment env(int parallelism, String backend) {
        return env(parallelism, backend, new Configuration());
    }

    private static StreamExecutionEnvironment env(
            int parallelism, String backend, Configuration conf) {
        conf.set(StateBackendOptions.STATE_BACKEND, backend);
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    private static KafkaChangelog changelog(String topic) {
        return KafkaChangelog.builder().setConnection(CONNECTION()).setTopic(topic).build();
    }

    private static KafkaIn<Tuple2<String, Long>> source(String topic, boolean bounded) {
        return KafkaIn.<Tuple2<String, Long>>builder()
                .setConnection(CONNECTION())
                .setTopics(topic)
                .setDeserializer(KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                .setBounded(bounded)
                .build();
    }

    private static KafkaOut<Tuple2<String, String>> out(String topic) {
        return KafkaOut.<Tuple2<String, String>>builder()
                .setConnection(CONNECTION())
                .setTopic(topic)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.string())
                .setAutoCreateTopic(3)
                .build();
    }

    /**
     * Per key and record: count (value state), sum (reducing), average (aggregating), distinct
     * values (map) and the last three values (list), emitted as {@code
     * count/sum/average/distinct/last3}.
     */
    static final class EveryKind
            extends KeyedProcessFunction<String, Tuple2<String, Long>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> count;
        private transient ReducingState<Long> sum;
        private transient AggregatingState<Long, Double> average;
        private transient MapState<Long, Boolean> distinct;
        private transient ListState<Long> last;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
            sum =
                    getRuntimeContext()
                            .getReducingState(
                                    new ReducingStateDescriptor<>("sum", Long::sum, Types.LONG));
            average =
                    getRuntimeContext()
                            .getAggregatingState(
                                    new AggregatingStateDescriptor<>(
                                            "average",
                                            new Average(),
                                            Types.TUPLE(Types.LONG, Types.LONG)));
            distinct =
                    getRuntimeContext()
                            .getMapState(
                                    new MapStateDescriptor<>(
                                            "distinct", Types.LONG, Types.BOOLEAN));
            last = getRuntimeContext().getListState(new ListStateDescriptor<>("last", Types.LONG));
        }

        @Override
        public void processElement(
                Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, String>> out)
                throws Exception {
            Long n = count.value();
            count.update(n == null ? 1 : n + 1);
            sum.add(in.f1);
            average.add(in.f1);
            distinct.put(in.f1, true);
            LinkedList<Long> values = new LinkedList<>();
            last.get().forEach(values::add);
            values.add(in.f1);
            if (values.size() > 3) {
                values.removeFirst();
            }
            last.update(values);
            int kinds = 0;
            for (Long ignored : distinct.keys()) {
                kinds++;
            }
            out.collect(
                    Tuple2.of(
                            in.f0,
                            count.value()
                                    + "/"
                                    + sum.get()
                                    + "/"
                                    + String.format(java.util.Locale.ROOT, "%.3f", average.get())
                                    + "/"
                                    + kinds
                                    + "/"
                                    + values));
        }
    }

    /** The average of longs. */
    static final class Average implements AggregateFunction<Long, Tuple2<Long, Long>, Double> {
        @Override
        public Tuple2<Long, Long> createAccumulator() {
            return Tuple2.of(0L, 0L);
        }

        @Override
        public Tuple2<Long, Long> add(Long value, Tuple2<Long, Long> acc) {
            return Tuple2.of(acc.f0 + value, acc.f1 + 1);
        }

        @Override
        public Double getResult(Tuple2<Long, Long> acc) {
            return acc.f1 == 0 ? 0.0 : (double) acc.f0 / acc.f1;
        }

        @Override
        public Tuple2<Long, Long> merge(Tuple2<Long, Long> a, Tuple2<Long, Long> b) {
            return Tuple2.of(a.f0 + b.f0, a.f1 + b.f1);
        }
    }

    /** What {@link EveryKind} must emit, per key, for {@code inputs} in order. */
    private static Map<String, List<String>> everyKindExpected(List<KeyValue<String, String>> in) {
        Map<String, List<Long>> seen = new HashMap<>();
        Map<String, List<String>> expected = new TreeMap<>();
        for (KeyValue<String, String> record : in) {
            List<Long> values = seen.computeIfAbsent(record.key(), k -> new ArrayList<>());
            values.add(Long.parseLong(record.value()));
            long sum = values.stream().mapToLong(Long::longValue).sum();
            List<Long> last = values.subList(Math.max(0, values.size() - 3), values.size());
            expected.computeIfAbsent(record.key(), k -> new ArrayList<>())
                    .add(
                            values.size()
                                    + "/"
                                    + sum
                                    + "/"
                                    + String.format(
                                            java.util.Locale.ROOT,
                                            "%.3f",
                                            (double) sum / values.size())
                                    + "/"
                                    + new TreeSet<>(values).size()
                                    + "/"
                                    + last);
        }
        return expected;
    }

    private static Map<String, List<String>> committed(KafkaTestClient kafka, String topic) {
        Map<String, List<String>> outputs = new TreeMap<>();
        for (ConsumerRecord<String, String> r : kafka.consumeAll(topic, Duration.ofSeconds(1))) {
            outputs.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
        }
        return outputs;
    }

    private static List<KeyValue<String, String>> batch(Random random, int records, int keys) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            batch.add(KeyValue.of("k" + random.nextInt(keys), Long.toString(random.nextInt(10))));
        }
        return batch;
    }

    private static void runEveryKind(
            String in, String out, String state, int parallelism, String backend) throws Exception {
        StreamExecutionEnvironment env = env(parallelism, backend);
        KafkaStateJob job = changelog(state).job(env);
        DataStream<Tuple2<String, Long>> values = job.source("values", source(in, true));
        job.sink(everyKind(job, "every-kind", values), out(out));
        job.execute("every kind of state");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void shouldKeepEveryKindOfFlinkStateInKafka(String backend) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("kinds-in", 3);
        String out = KafkaTestClient.uniqueTopicName("kinds-out");
        String state = KafkaTestClient.uniqueTopicName("kinds-state");
        Random random = new Random(5);
        List<KeyValue<String, String>> inputs = new ArrayList<>(batch(random, 2_000, 20));
        kafka.produce(in, inputs);
        runEveryKind(in, out, state, 1, backend);

        // no Flink state: every kind of state comes back from Kafka, at another parallelism
        List<KeyValue<String, String>> second = batch(random, 2_000, 25);
        kafka.produce(in, second);
        inputs.addAll(second);
        runEveryKind(in, out, state, 3, backend);

        // the whole committed history, each input's output once and in order
        assertThat(committed(kafka, out)).isEqualTo(everyKindExpected(inputs));
    }

    /** On each value v: an event-time timer at v + 1000; on the timer: {@code fired:<v>}. */
    static final class TimerPerRecord
            extends KeyedProcessFunction<String, Tuple2<String, Long>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(
                Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, String>> out) {
            ctx.timerService().registerEventTimeTimer(in.f1 + 1_000);
        }

        @Override
        public void onTimer(long time, OnTimerContext ctx, Collector<Tuple2<String, String>> out) {
            out.collect(Tuple2.of(ctx.getCurrentKey(), "fired:" + (time - 1_000)));
        }
    }

    private static void timersJob(
            StreamExecutionEnvironment env, String in, String out, String state, boolean bounded) {
        KafkaStateJob job = changelog(state).job(env);
        KafkaIn<Tuple2<String, Long>> source =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(CONNECTION())
                        .setTopics(in)
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .setWatermarks(Duration.ZERO, (t, kafkaTs) -> t.f1, Duration.ofSeconds(1))
                        .setBounded(bounded)
                        .build();
        job.sink(
                job.process(
                        "timers",
                        job.source("events", source).keyBy(t -> t.f0, Types.STRING),
                        new TimerPerRecord(),
                        Types.TUPLE(Types.STRING, Types.STRING)),
                out(out));
        job.attach();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void shouldRestoreTimersFromKafka(String backend) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("timers-in", 1);
        String out = KafkaTestClient.uniqueTopicName("timers-out");
        String state = KafkaTestClient.uniqueTopicName("timers-state");
        List<KeyValue<String, String>> events = new ArrayList<>();
        // Event times an hour ago, 10 ms apart: the last timers wait. (The outputs carry their
        // timer's time as record timestamp; times near 1970 let the broker's 7-day retention
        // delete the first run's output once its segment rolls, and the test saw only the
        // timers fired after the restart.)
        long start = (System.currentTimeMillis() - 3_600_000L) / 1_000 * 1_000;
        for (int i = 0; i < 500; i++) {
            events.add(KeyValue.of("k" + (i % 7), Long.toString(start + i * 10L)));
        }
        kafka.produce(in, events);

        StreamExecutionEnvironment env = env(2, backend);
        timersJob(env, in, out, state, false);
        JobClient running = env.executeAsync("timers, unbounded");
        try {
            // all input consumed and committed with its state: the timers above the last
            // watermark (the last event time) are pending, in the changelog
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!positionReached(in, state, 500) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(positionReached(in, state, 500)).as("input committed").isTrue();
        } finally {
            running.cancel().get(30, TimeUnit.SECONDS); // no savepoint: Flink's state is gone
        }
        long firedBefore = committed(kafka, out).values().stream().mapToLong(List::size).sum();
        assertThat(firedBefore).as("timers fired in the first run").isLessThan(500);

        StreamExecutionEnvironment restart = env(3, backend);
        timersJob(restart, in, out, state, true);
        restart.execute("timers, bounded, from Kafka");

        Map<String, List<String>> expected = new TreeMap<>();
        for (KeyValue<String, String> e : events) {
            expected.computeIfAbsent(e.key(), k -> new ArrayList<>()).add("fired:" + e.value());
        }
        // every timer fired exactly once: the pending ones after the restart from Kafka
        assertThat(committed(kafka, out)).isEqualTo(expected);
    }

    private static boolean positionReached(String in, String state, long offset) {
        Map<String, Long> positions =
                io.github.flinkkafkakit.state.internal.PositionsTopic.read(
                                CONNECTION(), state + "-positions")
                        .positions();
        return positions.getOrDefault(in + "/0", 0L) >= offset;
    }

    // ---------------------------------------------------------------- refused when built

    /**
     * {@link EveryKind} on {@code values} keyed by their first field, with operator uid {@code
     * uid}.
     */
    private static DataStream<Tuple2<String, String>> everyKind(
            KafkaStateJob job, String uid, DataStream<Tuple2<String, Long>> values) {
        return job.process(
                uid,
                values.keyBy(t -> t.f0, Types.STRING),
                new EveryKind(),
                Types.TUPLE(Types.STRING, Types.STRING));
    }

    private static KafkaStateJob jobOn(StreamExecutionEnvironment env) {
        return changelog(KafkaTestClient.uniqueTopicName("refused-state")).job(env);
    }

    @Test
    void shouldRefuseASourceNotAddedThroughTheJob() {
        String in = KAFKA.client().createUniqueTopic("plain-in", 1);
        StreamExecutionEnvironment env = env(1);
        KafkaStateJob job = jobOn(env);
        job.source("tracked", source(in, true));
        DataStream<Tuple2<String, Long>> untracked = source(in, true).createStream(env);
        everyKind(job, "counts", untracked);

        assertThatThrownBy(job::attach)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("feeds Kafka-backed operator 'counts'")
                .hasMessageContaining("positions are not stored")
                .hasMessageContaining("KafkaStateJob.source(uid, kafkaIn)");
    }

    @Test
    void shouldRefuseAWindowBetweenTheSourceAndTheKafkaBackedOperator() {
        String in = KAFKA.client().createUniqueTopic("window-in", 1);
        StreamExecutionEnvironment env = env(1);
        KafkaStateJob job = jobOn(env);
        DataStream<Tuple2<String, Long>> windowed =
                job.source("values", source(in, true))
                        .keyBy(t -> t.f0, Types.STRING)
                        .window(TumblingProcessingTimeWindows.of(Duration.ofSeconds(1)))
                        .reduce((a, b) -> Tuple2.of(a.f0, a.f1 + b.f1));
        everyKind(job, "after-window", windowed);

        assertThatThrownBy(job::attach)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("feeds Kafka-backed operator 'after-window'")
                .hasMessageContaining("not a record-by-record operator without state");
    }

    @Test
    void shouldRefuseASinkOutsideTheChangelogsTransaction() {
        String in = KAFKA.client().createUniqueTopic("sink-in", 1);
        StreamExecutionEnvironment env = env(1);
        KafkaStateJob job = jobOn(env);
        DataStream<Tuple2<String, String>> counts =
                everyKind(job, "counted", job.source("values", source(in, true)));
        counts.sinkTo(new DiscardingSink<>());

        assertThatThrownBy(job::attach)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("outside the changelog's transaction")
                .hasMessageContaining("KafkaStateJob.sink(stream, kafkaOut)");
    }

    @Test
    void shouldRefuseWritingTheInputTopicOfAnotherSource() {
        String in = KAFKA.client().createUniqueTopic("loop-in", 1);
        String other = KAFKA.client().createUniqueTopic("loop-other", 1);
        StreamExecutionEnvironment env = env(1);
        KafkaStateJob job = jobOn(env);
        job.source("looped", source(in, true)).sinkTo(new DiscardingSink<>());
        DataStream<Tuple2<String, String>> counts =
                everyKind(job, "counted", job.source("values", source(other, true)));

        assertThatThrownBy(() -> job.sink(counts, out(in)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'" + in + "' is also an input topic of this job");
    }

    /** A function with operator state, which lives in Flink's checkpoints only. */
    static final class WithOperatorState
            extends KeyedProcessFunction<String, Tuple2<String, Long>, Tuple2<String, String>>
            implements CheckpointedFunction {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(
                Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, String>> out) {}

        @Override
        public void snapshotState(FunctionSnapshotContext context) {}

        @Override
        public void initializeState(FunctionInitializationContext context) {}
    }

    @Test
    void shouldRefuseUidsAndFunctionsThatCouldNotBeRestored() {
        String in = KAFKA.client().createUniqueTopic("uid-in", 1);
        StreamExecutionEnvironment env = env(1);
        KafkaStateJob job = jobOn(env);
        DataStream<Tuple2<String, Long>> values = job.source("values", source(in, true));

        assertThatThrownBy(() -> everyKind(job, "", values)).hasMessageContaining("need a uid");
        assertThatThrownBy(() -> everyKind(job, "values", values))
                .hasMessageContaining("uid 'values' is used twice");
        assertThatThrownBy(
                        () ->
                                job.process(
                                        "operator-state",
                                        values.keyBy(t -> t.f0, Types.STRING),
                                        new WithOperatorState(),
                                        Types.TUPLE(Types.STRING, Types.STRING)))
                .hasMessageContaining("keeps operator state (CheckpointedFunction)");
    }

    /** Counts per double key: its serializer may write equal keys differently (NaN, -0.0). */
    static final class ByDouble
            extends KeyedProcessFunction<Double, Tuple2<String, Long>, Tuple2<String, String>> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(
                Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, String>> out) {}
    }

    @Test
    void shouldRefuseKeysWithoutADeterministicSerializerWhenTheJobStarts() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("double-in", 1);
        kafka.produce(in, List.of(KeyValue.of("a", "1")));
        StreamExecutionEnvironment env = env(1);
        KafkaStateJob job = jobOn(env);
        job.sink(
                job.process(
                        "by-double",
                        job.source("values", source(in, true))
                                .keyBy(t -> (double) t.f1, Types.DOUBLE),
                        new ByDouble(),
                        Types.TUPLE(Types.STRING, Types.STRING)),
                out(KafkaTestClient.uniqueTopicName("double-out")));

        Throwable failure = catchThrowable(() -> job.execute("double keys"));

        assertThat(failure).isNotNull();
        Throwable root = ExceptionUtils.stripExecutionException(failure);
        assertThat(ExceptionUtils.findThrowableWithMessage(failure, "serialize deterministically"))
                .as(String.valueOf(root))
                .isPresent();
    }

    /**
     * RocksDB with timers on the heap: Flink would write those timers to the raw keyed state the
     * kit's operator writes its own tables to, and fail the first checkpoint. Refused when the
     * operator starts instead, naming the setting.
     */
    @Test
    void shouldRefuseRocksDbWithHeapTimersNamingTheSetting() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("heap-timers-in", 1);
        kafka.produce(in, List.of(KeyValue.of("a", "1")));
        Configuration heapTimers = new Configuration();
        heapTimers.setString("state.backend.rocksdb.timer-service.factory", "HEAP");
        StreamExecutionEnvironment env = env(1, "rocksdb", heapTimers);
        timersJob(
                env,
                in,
                KafkaTestClient.uniqueTopicName("heap-timers-out"),
                KafkaTestClient.uniqueTopicName("heap-timers-state"),
                true);

        Throwable failure = catchThrowable(() -> env.execute("rocksdb, heap timers"));

        assertThat(failure).isNotNull();
        assertThat(
                        ExceptionUtils.findThrowableWithMessage(
                                failure, "state.backend.rocksdb.timer-service.factory: ROCKSDB"))
                .as(ExceptionUtils.stringifyException(failure))
                .isPresent();
    }
}
