package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link KafkaRecord} end to end: JSON values with headers in, out with key, headers and timestamp
 * kept; and {@link Guard} sending elements whose function throws to the dead-letter topic at stage
 * {@code PROCESS}. Generic types are disabled and the restart strategy is "none", so any Kryo
 * fallback or any failure fails the test.
 */
class KafkaRecordITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long T0 = 1_700_000_000_000L;

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);
        return env;
    }

    private static <K, V> KafkaIn<KafkaRecord<K, V>> source(
            String topic,
            io.github.flinkkafkakit.core.serde.Serde<K> keys,
            io.github.flinkkafkakit.core.serde.Serde<V> values) {
        return KafkaIn.<KafkaRecord<K, V>>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(topic)
                .setGroupId("g-" + topic)
                .setDeserializer(KafkaDeserializers.records(keys, values))
                .setBounded(true)
                .build();
    }

    private static void produceWithHeaders(String topic, int n, Function<Integer, String> value)
            throws Exception {
        try (KafkaProducer<String, String> producer = KAFKA.client().stringProducer()) {
            for (int i = 0; i < n; i++) {
                RecordHeaders headers = new RecordHeaders();
                headers.add("trace-id", ("t" + i).getBytes(StandardCharsets.UTF_8));
                headers.add("source", "test".getBytes(StandardCharsets.UTF_8));
                producer.send(
                        new ProducerRecord<>(
                                topic, i % 2, T0 + i, "k" + i, value.apply(i), headers));
            }
            producer.flush();
        }
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null || h.value() == null
                ? null
                : new String(h.value(), StandardCharsets.UTF_8);
    }

    /**
     * Adds {@code "seen": true} to the JSON value and a header, moves the timestamp by 1 s; key,
     * other headers and position stay.
     */
    public static final class MarkSeen
            implements MapFunction<KafkaRecord<String, JsonNode>, KafkaRecord<String, JsonNode>> {
        @Override
        public KafkaRecord<String, JsonNode> map(KafkaRecord<String, JsonNode> r) {
            ObjectNode v = ((ObjectNode) r.value()).deepCopy();
            v.put("seen", true);
            v.put("from", r.topic() + "-" + r.partition() + "@" + r.offset());
            return r.withValue((JsonNode) v)
                    .withHeader("stage", "mark-seen")
                    .withTimestamp(r.timestamp() + 1_000);
        }
    }

    @Test
    void shouldRoundTripJsonRecordsWithHeaders() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("json-in", 2);
        String out = kafka.createUniqueTopic("json-out", 2);
        produceWithHeaders(in, 50, i -> "{\"id\":" + i + ",\"name\":\"n" + i + "\"}");

        StreamExecutionEnvironment env = env();
        DataStream<KafkaRecord<String, JsonNode>> records =
                source(in, Serdes.string(), JsonSerde.tree()).createStream(env);
        DataStream<KafkaRecord<String, JsonNode>> marked =
                records.map(new MarkSeen()).returns(records.getType());
        KafkaOut.recordBuilder(Serdes.string(), JsonSerde.tree())
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setTransactionalIdPrefix("tx-" + out)
                .build()
                .writeTo(marked);
        env.execute("json round trip");

        assertThat(records.getType()).isInstanceOf(KafkaRecordTypeInfo.class);
        List<ConsumerRecord<String, String>> written = kafka.consumeAll(out);
        assertThat(written).hasSize(50);
        for (ConsumerRecord<String, String> r : written) {
            int i = Integer.parseInt(r.key().substring(1));
            JsonNode value =
                    JsonSerde.tree().deserialize(r.value().getBytes(StandardCharsets.UTF_8));
            assertThat(value.get("id").asInt()).isEqualTo(i);
            assertThat(value.get("name").asText()).isEqualTo("n" + i);
            assertThat(value.get("seen").asBoolean()).isTrue();
            assertThat(value.get("from").asText()).startsWith(in + "-" + (i % 2) + "@");
            assertThat(header(r, "trace-id")).isEqualTo("t" + i);
            assertThat(header(r, "source")).isEqualTo("test");
            assertThat(header(r, "stage")).isEqualTo("mark-seen");
            assertThat(r.timestamp()).isEqualTo(T0 + i + 1_000);
        }
    }

    /** Parses the value as a number; throws for anything else. */
    public static final class ParseAmount
            implements MapFunction<KafkaRecord<String, String>, KafkaRecord<String, Long>> {
        @Override
        public KafkaRecord<String, Long> map(KafkaRecord<String, String> r) {
            long amount = Long.parseLong(r.value());
            if (amount < 0) {
                throw new IllegalArgumentException("negative amount " + amount);
            }
            return r.withValue(amount * 10);
        }
    }

    @Test
    void shouldDeadLetterElementsWhoseFunctionThrowsAndKeepRunning() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("guard-in", 2);
        String out = kafka.createUniqueTopic("guard-out", 2);
        String dlq = KafkaTestClient.uniqueTopicName("guard-dlq");
        Map<Integer, String> bad = Map.of(7, "seven", 13, "-13", 21, "");
        produceWithHeaders(in, 30, i -> bad.getOrDefault(i, Integer.toString(i)));

        StreamExecutionEnvironment env = env();
        DataStream<KafkaRecord<String, String>> records =
                source(in, Serdes.string(), Serdes.string()).createStream(env);
        Guard guard =
                Guard.builder()
                        .setErrorPolicy(ErrorPolicy.deadLetter(dlq))
                        .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                        .build();
        TypeInformation<KafkaRecord<String, Long>> parsedType =
                KafkaRecordTypeInfo.of(Types.STRING, Types.LONG);
        DataStream<KafkaRecord<String, Long>> parsed =
                guard.map(records, "parse amount", new ParseAmount(), parsedType);
        KafkaOut.recordBuilder(Serdes.string(), Serdes.longAsText())
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setTransactionalIdPrefix("tx-" + out)
                .build()
                .writeTo(parsed);
        env.execute("guard");

        Map<String, String> output =
                kafka.consumeAll(out).stream()
                        .collect(Collectors.toMap(ConsumerRecord::key, ConsumerRecord::value));
        assertThat(output).hasSize(27).containsEntry("k1", "10").containsEntry("k29", "290");
        assertThat(output).doesNotContainKeys("k7", "k13", "k21");

        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(dlq, Duration.ofSeconds(2));
        Map<String, ConsumerRecord<byte[], byte[]>> byKey =
                letters.stream()
                        .collect(
                                Collectors.toMap(
                                        r -> new String(r.key(), StandardCharsets.UTF_8), r -> r));
        assertThat(byKey.keySet()).containsExactlyInAnyOrder("k7", "k13", "k21");
        for (int i : bad.keySet()) {
            ConsumerRecord<byte[], byte[]> letter = byKey.get("k" + i);
            assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo(bad.get(i));
            assertThat(header(letter, DeadLetter.STAGE)).isEqualTo("PROCESS");
            assertThat(header(letter, DeadLetter.TOPIC)).isEqualTo(in);
            assertThat(header(letter, DeadLetter.PARTITION)).isEqualTo(Integer.toString(i % 2));
            assertThat(Long.parseLong(header(letter, DeadLetter.OFFSET))).isNotNegative();
            assertThat(header(letter, DeadLetter.TIMESTAMP)).isEqualTo(Long.toString(T0 + i));
            assertThat(header(letter, DeadLetter.STACKTRACE)).contains("ParseAmount");
            assertThat(header(letter, "trace-id")).as("original header").isEqualTo("t" + i);
        }
        assertThat(header(byKey.get("k7"), DeadLetter.EXCEPTION))
                .isEqualTo(NumberFormatException.class.getName());
        assertThat(header(byKey.get("k13"), DeadLetter.MESSAGE)).isEqualTo("negative amount -13");
    }
}
