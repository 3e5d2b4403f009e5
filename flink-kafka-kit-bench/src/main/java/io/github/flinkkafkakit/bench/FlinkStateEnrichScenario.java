package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code enrich-flink-state-eos}: the {@code kit-enrich-eos} job with its state in Flink only — the
 * same sources and watermarks, the same {@link EnrichJoin} on {@code connect().keyBy().process()}
 * with Flink's heap state backend, the same exactly-once sink, the same checkpoints — but no
 * changelog, no positions, so it cannot restart from Kafka alone. {@code kit-enrich-eos} over this
 * is the cost of keeping a timer-and-map-state job's state in Kafka.
 */
final class FlinkStateEnrichScenario implements EndToEndScenario {

    @Override
    public String name() {
        return "enrich-flink-state-eos";
    }

    @Override
    public boolean needsEnrichInput() {
        return true;
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        EnrichInput enrich = context.enrichInput(input);
        String output = context.createTopic("flink-enrich-out");
        String group = context.uniqueName(name());
        StreamExecutionEnvironment env = context.flink(CheckpointingMode.EXACTLY_ONCE);
        EnrichJoin.heapStateBackend(env);
        KafkaConnection connection = context.connection();
        DataStream<Tuple3<String, Long, Long>> clicks =
                EnrichJoin.source(connection, enrich.clicksTopic, group, "clicks")
                        .createStream(env);
        DataStream<Tuple3<String, Long, Long>> profiles =
                EnrichJoin.source(connection, enrich.profilesTopic, group, "profiles")
                        .createStream(env);
        DataStream<Tuple3<String, Long, Long>> enriched =
                clicks.connect(profiles)
                        .keyBy(t -> t.f0, t -> t.f0, Types.STRING)
                        .process(new EnrichJoin(), EnrichJoin.OUTPUT)
                        .name("enrich")
                        .uid("enrich");
        EnrichJoin.sink(connection, output)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(group)
                .build()
                .writeTo(enriched);
        Timing timing = EndToEndScenario.time(() -> env.execute(name()));
        String verified = enrich.verify(context.bootstrapServers(), output);
        return Measurement.of(enrich.records(), timing, verified);
    }
}
