package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checks that need no cluster: they run before any preflight contact. */
class KafkaOutTest {

    private static final KafkaConnection NOWHERE = KafkaConnection.of("127.0.0.1:1");

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
        out("t1").setTransactionalIdPrefix("job").setPreflight(false).build().writeTo(stream);

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
        DataStream<String> in =
                KafkaIn.<String>builder()
                        .setConnection(NOWHERE)
                        .setTopics("events")
                        .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                        .setPreflight(false)
                        .build()
                        .createStream(env);

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
    void shouldRejectNonPositiveTimeoutsAtOnce() {
        assertThatThrownBy(() -> out("t").setTransactionTimeout(Duration.ZERO))
                .hasMessage("transaction timeout must be positive");
        assertThatThrownBy(() -> out("t").setAutoCreateTopic(0))
                .hasMessage("partitions must be positive, got 0");
    }
}
