package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorBudget;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Poison pills in a JSON source and an oversized output record: with a dead-letter policy they land
 * in the dead-letter topic with their context while the job finishes without a single restart (the
 * restart strategy is "none", so any failure would fail the job).
 */
class ErrorPolicyITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** The event type of the JSON source. */
    public record Event(String id, int amount) {}

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);
        return env;
    }

    private static KafkaIn<Event> source(String topic, ErrorPolicy policy) {
        return KafkaIn.<Event>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(topic)
                .setGroupId("g-" + topic)
                .setDeserializer(KafkaDeserializers.values(JsonSerde.of(Event.class)))
                .setErrorPolicy(policy)
                .setBounded(true)
                .build();
    }

    private static KafkaOut.Builder<Event> sink(String topic) {
        return KafkaOut.<Event>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(topic)
                .setKey(Event::id, Serdes.string())
                .setValue(e -> e, JsonSerde.of(Event.class))
                .setTransactionalIdPrefix("tx-" + topic);
    }

    @Test
    void shouldDeadLetterEveryPoisonPillWithContextAndKeepRunning() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("events", 2);
        String out = kafka.createUniqueTopic("events-out", 2);
        String dlq = KafkaTestClient.uniqueTopicName("events-dlq");
        List<KeyValue<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            records.add(
                    KeyValue.of(
                            utf8("k" + i), utf8("{\"id\":\"e" + i + "\",\"amount\":" + i + "}")));
        }
        Map<String, byte[]> pills =
                Map.of(
                        "invalid-utf8",
                                new byte[] {
                                    '{',
                                    '"',
                                    'i',
                                    'd',
                                    '"',
                                    ':',
                                    '"',
                                    (byte) 0xC3,
                                    (byte) 0x28,
                                    '"',
                                    '}'
                                },
                        "invalid-json", utf8("{\"id\": \"e1\", amount: }"),
                        "wrong-shape", utf8("{\"id\":\"e2\",\"amount\":\"lots\"}"),
                        "missing-field", utf8("{\"id\":\"e3\"}"),
                        "not-an-object", utf8("[1,2,3]"),
                        "trailing-garbage", utf8("{\"id\":\"e4\",\"amount\":4} xyz"));
        pills.forEach(
                (name, value) -> records.add(records.size() / 2, KeyValue.of(utf8(name), value)));
        kafka.produceBytes(in, records);

        StreamExecutionEnvironment env = env();
        DataStream<Event> events = source(in, ErrorPolicy.deadLetter(dlq)).createStream(env);
        sink(out).build().writeTo(events);
        env.execute("dead letters");

        assertThat(kafka.consumeAll(out)).hasSize(200);
        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(dlq, Duration.ofSeconds(2));
        Map<String, ConsumerRecord<byte[], byte[]>> byKey =
                letters.stream()
                        .collect(
                                Collectors.toMap(
                                        r -> new String(r.key(), StandardCharsets.UTF_8), r -> r));
        assertThat(byKey.keySet()).isEqualTo(pills.keySet());
        for (Map.Entry<String, byte[]> pill : pills.entrySet()) {
            ConsumerRecord<byte[], byte[]> letter = byKey.get(pill.getKey());
            assertThat(letter.value())
                    .as("original value of " + pill.getKey())
                    .isEqualTo(pill.getValue());
            assertThat(header(letter, DeadLetter.STAGE)).isEqualTo("DESERIALIZE");
            assertThat(header(letter, DeadLetter.TOPIC)).isEqualTo(in);
            assertThat(Integer.parseInt(header(letter, DeadLetter.PARTITION))).isBetween(0, 1);
            assertThat(Long.parseLong(header(letter, DeadLetter.OFFSET))).isNotNegative();
            assertThat(Long.parseLong(header(letter, DeadLetter.TIMESTAMP))).isPositive();
            assertThat(header(letter, DeadLetter.EXCEPTION)).isNotBlank();
            assertThat(header(letter, DeadLetter.MESSAGE)).isNotBlank();
            assertThat(header(letter, DeadLetter.STACKTRACE)).contains("at ");
        }
    }

    @Test
    void shouldDeadLetterAnOversizedOutputRecordInsteadOfRestarting() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("big-in", 1);
        String out = kafka.createUniqueTopic("big-out", 1);
        String dlq = kafka.createUniqueTopic("big-dlq", 1);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            records.add(KeyValue.of("k" + i, "{\"id\":\"e" + i + "\",\"amount\":" + i + "}"));
        }
        String huge = "x".repeat(20_000);
        records.add(KeyValue.of("huge", "{\"id\":\"" + huge + "\",\"amount\":1}"));
        kafka.produce(in, records);

        StreamExecutionEnvironment env = env();
        DataStream<Event> events = source(in, ErrorPolicy.fail()).createStream(env);
        sink(out)
                .setProperty("max.request.size", "8192")
                .setErrorPolicy(ErrorPolicy.deadLetter(dlq))
                .build()
                .writeTo(events);
        env.execute("oversized");

        assertThat(kafka.consumeAll(out)).hasSize(50);
        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(dlq, Duration.ofSeconds(2));
        assertThat(letters).hasSize(1);
        ConsumerRecord<byte[], byte[]> letter = letters.get(0);
        assertThat(header(letter, DeadLetter.STAGE)).isEqualTo("PRODUCE");
        assertThat(header(letter, DeadLetter.EXCEPTION))
                .isEqualTo("org.apache.kafka.common.errors.RecordTooLargeException");
        assertThat(header(letter, DeadLetter.TOPIC)).isEqualTo(out);
        assertThat(letter.value()).hasSize(1024);
    }

    @Test
    void shouldFailOnceNamingTheRecordUnderTheDefaultPolicy() {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("strict", 1);
        String out = kafka.createUniqueTopic("strict-out", 1);
        kafka.produce(
                in,
                List.of(KeyValue.of("a", "{\"id\":\"a\",\"amount\":1}"), KeyValue.of("b", "oops")));

        StreamExecutionEnvironment env = env();
        sink(out).build().writeTo(source(in, ErrorPolicy.fail()).createStream(env));
        Throwable failure = catchThrowable(() -> env.execute("strict"));

        assertThat(ExceptionUtils.stringifyException(failure))
                .contains("Record " + in + "-0@1 failed at stage DESERIALIZE")
                .contains("Set an error policy (skip, log or deadLetter)");
    }

    @Test
    void shouldTripTheErrorBudget() {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("budget", 1);
        String out = kafka.createUniqueTopic("budget-out", 1);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            records.add(KeyValue.of("k" + i, "not json " + i));
        }
        kafka.produce(in, records);

        StreamExecutionEnvironment env = env();
        ErrorPolicy policy =
                ErrorPolicy.skip().withBudget(ErrorBudget.maxErrors(5, Duration.ofMinutes(1)));
        sink(out).build().writeTo(source(in, policy).createStream(env));
        Throwable failure = catchThrowable(() -> env.execute("budget"));

        assertThat(ExceptionUtils.stringifyException(failure))
                .contains(
                        "Error budget exceeded: 6 of 6 records (100.0 %) failed at stage DESERIALIZE");
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
