package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checks that need no cluster: they run before any preflight contact. */
class KafkaOutTest {

    private static final KafkaConnection NOWHERE = KafkaConnection.of("127.0.0.1:1");

    private static DataStream<String> kafkaIn(StreamExecutionEnvironment env, String topic) {
        return KafkaIn.<String>builder()
                .setConnection(NOWHERE)
                .setTopics(topic)
                .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                .setPreflight(false)
                .build()
                .createStream(env);
    }

    private static KafkaOut.Builder<String> out(String topic) {
        return KafkaOut.<String>builder()
                .setConnection(NOWHERE)
                .setTopic(topic)
                .setValue(v -> v, Serdes.string());
    }

    @Test
    void shouldRequireATransactionalIdPrefixForExactlyOnce() {
        // Checked where the sink writes on its own (a Kafka-state job's writer needs none).
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(1000);
        KafkaOut<String> sink = out("t").setPreflight(false).build();

        assertThatThrownBy(() -> sink.writeTo(env.fromData("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("setTransactionalIdPrefix");
    }

    @Test
    void shouldRefuseExactlyOnceWithoutCheckpointing() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<String> stream = env.fromData("a");
        KafkaOut<String> sink = out("t").setTransactionalIdPrefix("job").build();

        assertThatThrownBy(() -> sink.writeTo(stream))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("exactly-once needs checkpointing");
    }

    @Test
    void shouldRefuseTwoExactlyOnceSinksWithOnePrefix() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(1000);
        DataStream<String> stream = env.fromData("a");
        out("t1")
                .setTransactionalIdPrefix("job")
                .setPreflight(false)
                .build()
                .writeTo(stream)
                .setDescription("the user's own description"); // does not hide the prefix

        assertThatThrownBy(
                        () ->
                                out("t2")
                                        .setTransactionalIdPrefix("job")
                                        .setPreflight(false)
                                        .build()
                                        .writeTo(stream))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'job' is used by another sink");
    }

    @Test
    void shouldRefuseWritingToATopicTheJobReads() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(1000);
        DataStream<String> in = kafkaIn(env, "events");

        assertThatThrownBy(
                        () ->
                                out("events")
                                        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                                        .build()
                                        .writeTo(in))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("feedback loop");
    }

    @Test
    void shouldRefuseATopicReadOnAnotherBranchOrByTheOfficialConnector() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        kafkaIn(env, "events").sinkTo(new DiscardingSink<>());
        env.fromSource(
                        KafkaSource.<String>builder()
                                .setBootstrapServers(NOWHERE.bootstrapServers())
                                .setTopics("audit", "orders")
                                .setValueOnlyDeserializer(new SimpleStringSchema())
                                .build(),
                        WatermarkStrategy.noWatermarks(),
                        "official")
                .sinkTo(new DiscardingSink<>());
        DataStream<String> other = env.fromData("x");

        for (String read : List.of("events", "orders")) {
            assertThatThrownBy(
                            () ->
                                    out(read)
                                            .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                                            .build()
                                            .writeTo(other))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'" + read + "' is also an input topic");
        }
        // the same topic name on another cluster is no loop
        KafkaOut.<String>builder()
                .setConnection(KafkaConnection.of("127.0.0.1:2"))
                .setTopic("events")
                .setValue(v -> v, Serdes.string())
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setPreflight(false)
                .build()
                .writeTo(other);
    }

    @Test
    void shouldRefuseReadingATopicAKitSinkOfTheJobWritesUnlessAllowed() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        out("events")
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setPreflight(false)
                .build()
                .writeTo(env.fromData("x"));

        assertThatThrownBy(() -> kafkaIn(env, "events"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Input topic 'events' is also the output topic of a sink")
                .hasMessageContaining("setAllowFeedbackLoop(true)");

        StreamExecutionEnvironment allowed = StreamExecutionEnvironment.getExecutionEnvironment();
        out("events")
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setAllowFeedbackLoop(true)
                .setPreflight(false)
                .build()
                .writeTo(allowed.fromData("x"));
        kafkaIn(allowed, "events").sinkTo(new DiscardingSink<>());
    }

    @Test
    void shouldRejectNonPositiveTimeoutsAtOnce() {
        assertThatThrownBy(() -> out("t").setTransactionTimeout(Duration.ZERO))
                .hasMessage("transaction timeout must be positive");
        assertThatThrownBy(() -> out("t").setAutoCreateTopic(0))
                .hasMessage("partitions must be positive, got 0");
    }
}
