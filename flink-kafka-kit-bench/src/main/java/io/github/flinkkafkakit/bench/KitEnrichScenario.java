package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.state.KafkaChangelog;
import io.github.flinkkafkakit.state.KafkaStateJob;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.Locale;

/**
 * {@code kit-enrich-eos}: the {@code enrich} example's job shape on Kafka state, exactly-once —
 * clicks and profile versions (two sources with watermarks) joined per user in event time by {@link
 * EnrichJoin} (map states, a value state and event-time timers, all kept in Kafka through {@link
 * KafkaStateJob}), the enriched clicks committed with the state and the source positions.
 */
final class KitEnrichScenario implements EndToEndScenario {

    @Override
    public String name() {
        return "kit-enrich-eos";
    }

    @Override
    public boolean needsEnrichInput() {
        return true;
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        EnrichInput enrich = context.enrichInput(input);
        String output = context.createTopic("enrich-out");
        String stateTopic = context.uniqueName("enrich-state");
        StreamExecutionEnvironment env = context.flink(CheckpointingMode.EXACTLY_ONCE);
        EnrichJoin.heapStateBackend(env);
        KafkaConnection connection = context.connection();
        KafkaStateJob job =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(stateTopic)
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .build()
                        .job(env);
        DataStream<Tuple3<String, Long, Long>> clicks =
                job.source(
                        "enrich-clicks",
                        EnrichJoin.source(connection, enrich.clicksTopic, stateTopic, "clicks"));
        DataStream<Tuple3<String, Long, Long>> profiles =
                job.source(
                        "enrich-profiles",
                        EnrichJoin.source(
                                connection, enrich.profilesTopic, stateTopic, "profiles"));
        SingleOutputStreamOperator<Tuple3<String, Long, Long>> enriched =
                job.process(
                        "enrich",
                        clicks.keyBy(t -> t.f0, Types.STRING)
                                .connect(profiles.keyBy(t -> t.f0, Types.STRING)),
                        new EnrichJoin(),
                        EnrichJoin.OUTPUT);
        job.sink(enriched, EnrichJoin.sink(connection, output).build());
        job.attach();
        Timing timing = EndToEndScenario.time(() -> env.execute(name()));
        String verified = enrich.verify(context.bootstrapServers(), output);
        // What keeping the state in Kafka wrote, after the timing: every record of the state
        // topic, and how many of them are tombstones (removed map entries, fired timers).
        long[] tombstones = new long[1];
        long changelog =
                EndToEndOutput.readCommitted(
                        context.bootstrapServers(),
                        stateTopic,
                        (k, v) -> tombstones[0] += v == null ? 1 : 0);
        return Measurement.of(
                enrich.records(),
                timing,
                String.format(
                        Locale.ROOT,
                        "%s; changelog %,d records, %,d of them tombstones",
                        verified,
                        changelog,
                        tombstones[0]));
    }
}
