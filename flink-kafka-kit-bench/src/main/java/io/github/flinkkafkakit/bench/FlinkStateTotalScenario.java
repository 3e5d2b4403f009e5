package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * {@code total-flink-state-eos}: the {@code kit-changelog-eos} job with its state in Flink only —
 * the same source, sums per key in heap {@code ValueState}, the latest total of each changed key
 * emitted before each checkpoint barrier, the same exactly-once sink — but no changelog topic, no
 * positions, so it cannot restart from Kafka alone. {@code kit-changelog-eos} over this is the cost
 * of keeping the state in Kafka (issue #6: ≥ 0.85).
 */
final class FlinkStateTotalScenario implements EndToEndScenario {

    @Override
    public String name() {
        return "total-flink-state-eos";
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String output = context.createTopic("flink-totals-out");
        String group = context.uniqueName(name());
        StreamExecutionEnvironment env = context.flink(CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = context.connection();
        KafkaIn<Tuple2<String, Long>> in =
                KitChangelogScenario.deposits(connection, input.topic, group);
        DataStream<Tuple2<String, Long>> totals =
                in.createStream(env)
                        .keyBy(t -> t.f0, Types.STRING)
                        .transform("totals", Types.TUPLE(Types.STRING, Types.LONG), new Totals());
        KafkaOut.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopic(output)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.longAsText())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(group)
                .build()
                .writeTo(totals);
        Timing timing = EndToEndScenario.time(() -> env.execute(name()));
        return EndToEndScenario.verifyLatest(context, input, output, input.sums, "total", timing);
    }

    /** Sum per key in heap ValueState; the latest total of each changed key before a barrier. */
    static final class Totals extends AbstractStreamOperator<Tuple2<String, Long>>
            implements OneInputStreamOperator<Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> total;
        private transient Set<String> changed;

        @Override
        public void open() throws Exception {
            super.open();
            total =
                    getPartitionedState(
                            org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                            org.apache.flink.runtime.state.VoidNamespaceSerializer.INSTANCE,
                            new ValueStateDescriptor<>("total", Types.LONG));
            changed = new LinkedHashSet<>();
        }

        @Override
        public void processElement(StreamRecord<Tuple2<String, Long>> element) throws Exception {
            Long current = total.value();
            total.update((current == null ? 0 : current) + element.getValue().f1);
            changed.add(element.getValue().f0);
        }

        @Override
        public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
            emitChanged();
            super.prepareSnapshotPreBarrier(checkpointId);
        }

        @Override
        public void finish() throws Exception {
            emitChanged();
            super.finish();
        }

        private void emitChanged() throws Exception {
            for (String key : changed) {
                setCurrentKey(key);
                output.collect(new StreamRecord<>(Tuple2.of(key, total.value())));
            }
            changed.clear();
        }
    }
}
