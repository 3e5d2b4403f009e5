package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.count.Counts;
import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code kit-count-alo} / {@code kit-count-eos}: the {@code count} example's job. The kit's source,
 * pre-aggregation before the shuffle, the running count with coalesced emission (the latest count
 * of each changed key before each checkpoint) and the kit's sink.
 */
final class KitCountScenario implements EndToEndScenario {

    /** Keys combined before the shuffle, as the {@code count} example does. */
    static final int PRE_AGGREGATION_KEYS = 100_000;

    private final boolean exactlyOnce;
    private final int preAggregationKeys;

    KitCountScenario(boolean exactlyOnce, int preAggregationKeys) {
        this.exactlyOnce = exactlyOnce;
        this.preAggregationKeys = preAggregationKeys;
    }

    @Override
    public String name() {
        return exactlyOnce ? "kit-count-eos" : "kit-count-alo";
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String output = context.createTopic("kit-count-out");
        StreamExecutionEnvironment env =
                context.flink(
                        exactlyOnce
                                ? CheckpointingMode.EXACTLY_ONCE
                                : CheckpointingMode.AT_LEAST_ONCE);
        KafkaConnection connection = context.connection();
        String group = context.uniqueName(name());
        KafkaIn<String> in =
                KafkaIn.<String>builder()
                        .setConnection(connection)
                        .setTopics(input.topic)
                        .setGroupId(group)
                        .setDeserializer(
                                KafkaDeserializers.keys(FirstRecordClock.markingStringSerde()))
                        .setBounded(true)
                        .build();
        DataStream<Tuple2<String, Long>> counts =
                Counts.perKey(in.createStream(env))
                        .setEmitPolicy(EmitPolicy.ON_CHECKPOINT)
                        .setPreAggregation(preAggregationKeys)
                        .build();
        KafkaOut.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopic(output)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.longAsText())
                .setDeliveryGuarantee(
                        exactlyOnce
                                ? DeliveryGuarantee.EXACTLY_ONCE
                                : DeliveryGuarantee.AT_LEAST_ONCE)
                .setTransactionalIdPrefix(group)
                .build()
                .writeTo(counts);
        Timing timing = EndToEndScenario.time(() -> env.execute(name()));
        return EndToEndScenario.verifyLatest(context, input, output, input.counts, "count", timing);
    }
}
