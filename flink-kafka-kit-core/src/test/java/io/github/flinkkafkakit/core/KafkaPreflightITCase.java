package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Every preflight row: the mistake, and the one line that names it. The broker allows transactions
 * of at most 2 minutes so the transaction-timeout row can trip.
 */
class KafkaPreflightITCase {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension(
                    KafkaBrokerExtension.Mode.EMBEDDED,
                    Map.of("transaction.max.timeout.ms", "120000"));

    private static final Duration SHORT = Duration.ofSeconds(3);

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of(
                        "broker unreachable",
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        source(KafkaConnection.of("127.0.0.1:1"), "any")
                                                .createStream(env),
                        "Cannot reach Kafka at 127.0.0.1:1: no broker answered within 3 s. Check"
                                + " bootstrap.servers of the KafkaConnection"),
                Arguments.of(
                        "trust store unreadable",
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        source(
                                                        KafkaConnection.builder()
                                                                .setBootstrapServers("127.0.0.1:1")
                                                                .setSecurityProtocol("SSL")
                                                                .setSslTrustStore(
                                                                        Path.of(
                                                                                "no-such-dir",
                                                                                "truststore.p12"),
                                                                        "store-Pa55word",
                                                                        "PKCS12")
                                                                .build(),
                                                        "any")
                                                .createStream(env),
                        "Failed to load SSL keystore no-such-dir/truststore.p12 of type PKCS12"),
                Arguments.of(
                        "source topic missing",
                        (Consumer<StreamExecutionEnvironment>)
                                env -> source(connection(), "no-such-input").createStream(env),
                        ": create it or fix the source topics (KafkaIn.setTopics)"),
                Arguments.of(
                        "sink topic missing",
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        sink("no-such-output", DeliveryGuarantee.AT_LEAST_ONCE)
                                                .build()
                                                .writeTo(env.fromData("x")),
                        "Output topic 'no-such-output' does not exist on "),
                Arguments.of(
                        "transaction timeout above the broker maximum",
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        sink(existingTopic(), DeliveryGuarantee.EXACTLY_ONCE)
                                                .setTransactionalIdPrefix("preflight-tx")
                                                .setTransactionTimeout(Duration.ofMinutes(5))
                                                .build()
                                                .writeTo(env.fromData("x")),
                        "transaction.timeout.ms=300000 of the sink to '"),
                Arguments.of(
                        "exactly-once without checkpointing",
                        (Consumer<StreamExecutionEnvironment>)
                                env -> {
                                    StreamExecutionEnvironment plain =
                                            StreamExecutionEnvironment.getExecutionEnvironment();
                                    sink(existingTopic(), DeliveryGuarantee.EXACTLY_ONCE)
                                            .setTransactionalIdPrefix("preflight-nockpt")
                                            .build()
                                            .writeTo(plain.fromData("x"));
                                },
                        "exactly-once needs checkpointing"),
                Arguments.of(
                        "feedback loop",
                        (Consumer<StreamExecutionEnvironment>)
                                env -> {
                                    String topic = existingTopic();
                                    DataStream<String> in =
                                            source(connection(), topic).createStream(env);
                                    sink(topic, DeliveryGuarantee.AT_LEAST_ONCE)
                                            .build()
                                            .writeTo(in);
                                },
                        "is also an input topic of this job"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistakes")
    void shouldFailWithOneLineNamingTheCause(
            String mistake, Consumer<StreamExecutionEnvironment> job, String expected) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(500);

        Throwable failure = catchThrowable(() -> job.accept(env));

        assertThat(failure).as(mistake).isNotNull();
        assertThat(failure.getMessage())
                .contains(expected)
                .doesNotContain("\n")
                // A library message names library settings, never a command-line flag of the
                // examples: it may come from anyone's job.
                .doesNotContainPattern("--[a-z]")
                .doesNotContain("store-Pa55word");
    }

    private static KafkaConnection connection() {
        return KafkaConnection.of(KAFKA.bootstrapServers());
    }

    private static String existingTopic() {
        return KAFKA.client().createUniqueTopic("preflight", 1);
    }

    private static KafkaIn<String> source(KafkaConnection connection, String topic) {
        return KafkaIn.<String>builder()
                .setConnection(connection)
                .setTopics(topic)
                .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                .setPreflightTimeout(SHORT)
                .build();
    }

    private static KafkaOut.Builder<String> sink(String topic, DeliveryGuarantee guarantee) {
        return KafkaOut.<String>builder()
                .setConnection(connection())
                .setTopic(topic)
                .setValue(v -> v, Serdes.string())
                .setDeliveryGuarantee(guarantee)
                .setPreflightTimeout(SHORT);
    }
}
