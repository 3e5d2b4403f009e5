package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.state.ChangelogFunction;
import io.github.flinkkafkakit.state.ChangelogPipeline;
import io.github.flinkkafkakit.state.KafkaChangelog;
import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * {@code kit-changelog-eos}: the {@code stateful-total} example's job, exactly-once. Running sums
 * per key in changelog-backed {@code ValueState}, every checkpoint's changes written to a compacted
 * Kafka topic in the same transactions as the output and the source positions.
 */
final class KitChangelogScenario implements EndToEndScenario {

    @Override
    public String name() {
        return "kit-changelog-eos";
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String output = context.createTopic("totals-out");
        String stateTopic = context.uniqueName("totals-state");
        StreamExecutionEnvironment env = context.flink(CheckpointingMode.EXACTLY_ONCE);
        buildJob(env, context, input.topic, output, stateTopic, null);
        Timing timing = EndToEndScenario.time(() -> env.execute(name()));
        return EndToEndScenario.verifyLatest(context, input, output, input.sums, "total", timing);
    }

    /** The stateful-total job: deposits → sum per key in changelog state → output. */
    static void buildJob(
            StreamExecutionEnvironment env,
            EndToEndContext context,
            String inputTopic,
            String outputTopic,
            String stateTopic,
            RestoreListener listener) {
        KafkaConnection connection = context.connection();
        KafkaIn<Tuple2<String, Long>> in = deposits(connection, inputTopic, stateTopic);
        KafkaChangelog.Builder changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(stateTopic)
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE);
        if (listener != null) {
            changelog.setRestoreListener(listener);
        }
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.build().pipeline(env, in);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING),
                        new RunningTotal(),
                        Types.TUPLE(Types.STRING, Types.LONG));
        job.writeOutput(
                totals, outputTopic, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
    }

    /**
     * The stateful-total job's source, bounded: (key, integer value) records, values that are not
     * integers to {@code <group>-dlq}.
     */
    static KafkaIn<Tuple2<String, Long>> deposits(
            KafkaConnection connection, String topic, String group) {
        return KafkaIn.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopics(topic)
                .setGroupId(group)
                .setDeserializer(
                        KafkaDeserializers.keyValues(
                                FirstRecordClock.markingStringSerde(), Serdes.longAsText()))
                .setErrorPolicy(ErrorPolicy.deadLetter(group + "-dlq"))
                .setBounded(true)
                .build();
    }

    /** Sum per key, emitted once per changed key and checkpoint (the example's function). */
    static final class RunningTotal
            extends ChangelogFunction<String, Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> total;

        @Override
        public void open(OpenContext context) {
            total = valueState("total", Types.LONG);
        }

        @Override
        public void processElement(
                Tuple2<String, Long> deposit, Context ctx, Collector<Tuple2<String, Long>> out)
                throws Exception {
            Long current = total.value();
            total.update((current == null ? 0 : current) + deposit.f1);
        }

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, Long>> out) throws Exception {
            out.collect(Tuple2.of(key, total.value()));
        }
    }
}
