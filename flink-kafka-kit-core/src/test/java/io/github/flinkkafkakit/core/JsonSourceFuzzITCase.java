package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.Seeds;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzing the JSON source: a few thousand records of random bytes, invalid UTF-8, truncated JSON,
 * JSON of the wrong shape and numbers too large for the field, mixed with valid events, go through
 * {@code KafkaIn} + {@link JsonSerde} + {@link ErrorPolicy#deadLetter} on a MiniCluster. The job
 * must finish without a single restart, every invalid record must be in the dead-letter topic
 * (exactly once, with its original bytes) and every valid one in the output (read_committed).
 *
 * <p>The generator knows by construction whether a record is valid for {@link Event}, so the
 * expectation does not depend on the code under test. Each run draws a new seed ({@link Seeds}:
 * {@code -Dfkk.seed=N} replays one, a failure prints it); a failure names the records by key
 * ({@code r<index>}) and category.
 */
class JsonSourceFuzzITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** A fresh seed per run; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    private static final int RECORDS = 3_000;

    /** The target type of the source. */
    public record Event(String id, int amount) {}

    /** One generated input record: its value (null for a tombstone) and what it should become. */
    private record Input(String category, byte[] value, Event expected) {
        boolean valid() {
            return expected != null;
        }

        boolean tombstone() {
            return value == null;
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        int length = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        byte[] result = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, result, at, p.length);
            at += p.length;
        }
        return result;
    }

    /** Generates the inputs; index {@code i} has key {@code r<i>}. */
    private static List<Input> generate(Random random) {
        List<Input> inputs = new ArrayList<>(RECORDS);
        for (int i = 0; i < RECORDS; i++) {
            inputs.add(generate(random, i));
        }
        return inputs;
    }

    private static Input generate(Random random, int i) {
        switch (i < 3 ? i : random.nextInt(10)) {
            case 0:
                return new Input("empty", new byte[0], null);
            case 1:
                return new Input("tombstone", null, null);
            case 2:
            case 3:
                byte[] bytes = new byte[random.nextInt(201)];
                random.nextBytes(bytes);
                return new Input("random-bytes", bytes, null);
            case 4:
            case 5:
            case 6:
                return valid(random, i);
            case 7:
                return invalidUtf8(random, i);
            case 8:
                return truncated(random, i);
            default:
                return random.nextBoolean() ? wrongShape(random, i) : hugeNumber(random, i);
        }
    }

    private static final int[] AMOUNTS = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE};

    private static int amount(Random random) {
        return random.nextInt(4) == 0
                ? AMOUNTS[random.nextInt(AMOUNTS.length)]
                : random.nextInt(2_000_001) - 1_000_000;
    }

    /** A valid event; the id is unique (it carries the index) and sometimes non-ASCII. */
    private static Input valid(Random random, int i) {
        String[] suffixes = {"", " ", "grüße", "日本", "😀", "\"quoted\"", "back\\slash", "tab\t"};
        String id = "v" + i + suffixes[random.nextInt(suffixes.length)];
        int amount = amount(random);
        String idJson = jsonString(id, random.nextBoolean());
        String json;
        switch (random.nextInt(4)) {
            case 0:
                json = "{\"id\":" + idJson + ",\"amount\":" + amount + "}";
                break;
            case 1:
                json = "\n {\t\"amount\" : " + amount + " ,\r\n \"id\" : " + idJson + " }\n";
                break;
            case 2:
                json =
                        "{\"extra\":{\"nested\":[1,2.5,null,true,\"x\"]},\"id\":"
                                + idJson
                                + ",\"big\":123456789012345678901234567890,\"amount\":"
                                + amount
                                + ",\"huge\":1e400}";
                break;
            default:
                json = "{\"amount\":" + amount + ",\"id\":" + idJson + ",\"unused\":null}";
                break;
        }
        return new Input("valid", utf8(json), new Event(id, amount));
    }

    /** {@code s} as a JSON string literal; non-ASCII characters as backslash-u escapes or raw. */
    private static String jsonString(String s, boolean escapeNonAscii) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || (escapeNonAscii && c > 0x7e)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** An otherwise valid event whose id contains a byte sequence that is never UTF-8. */
    private static Input invalidUtf8(Random random, int i) {
        byte[][] bad = {
            {(byte) 0xFF},
            {(byte) 0xFE, (byte) 0xFF},
            {(byte) 0xC3, (byte) 0x28}, // lead byte followed by a non-continuation byte
            {(byte) 0x80}, // continuation byte without lead
            {(byte) 0xE2, (byte) 0x82}, // truncated 3-byte sequence, then the closing quote
            {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // 5-byte form
        };
        byte[] value =
                concat(
                        utf8("{\"id\":\"u" + i),
                        bad[random.nextInt(bad.length)],
                        utf8("\",\"amount\":" + amount(random) + "}"));
        return new Input("invalid-utf8", value, null);
    }

    /** A strict prefix of a compact valid event: the object is never closed. */
    private static Input truncated(Random random, int i) {
        String json =
                "{\"id\":\"t"
                        + i
                        + "\",\"amount\":"
                        + amount(random)
                        + ",\"extra\":[1,{\"a\":\"b\"}]}";
        byte[] full = utf8(json);
        return new Input("truncated-json", Arrays.copyOf(full, random.nextInt(full.length)), null);
    }

    private static final String[] WRONG_SHAPES = {
        "[1,2,3]",
        "\"just a string\"",
        "42",
        "null",
        "{}",
        "[]",
        "{\"id\":\"x\"}",
        "{\"amount\":5}",
        "{\"id\":\"x\",\"amount\":null}",
        "{\"id\":\"x\",\"amount\":\"lots\"}",
        "{\"id\":\"x\",\"amount\":[1]}",
        "{\"id\":\"x\",\"amount\":{\"value\":1}}",
        "{\"id\":{\"a\":1},\"amount\":1}",
        "{\"id\":[\"x\"],\"amount\":1}",
        "[{\"id\":\"x\",\"amount\":1}]",
        "{\"id\":\"x\",\"amount\":1} {\"id\":\"y\",\"amount\":2}",
        "{\"id\":\"x\",\"amount\":1}]",
        "{\"id\":\"x\",\"amount\":1,}",
        "{'id':'x','amount':1}",
        "{id:\"x\",amount:1}",
        "{\"id\":\"x\",\"amount\":NaN}",
        "{\"id\":\"x\",\"amount\":0x10}",
        "{\"id\":\"x\",\"amount\":+1}",
        "{\"id\":\"x\",\"amount\":01}",
    };

    private static Input wrongShape(Random random, int i) {
        return new Input(
                "wrong-shape", utf8(WRONG_SHAPES[random.nextInt(WRONG_SHAPES.length)]), null);
    }

    private static final String[] HUGE_NUMBERS = {
        "2147483648",
        "-2147483649",
        "9223372036854775808",
        "99999999999999999999999999999999999999",
        "1e400",
        "-1e400",
        "1e10",
        "3.5",
        "-0.5",
        "1" + "0".repeat(1500),
    };

    /** An event whose amount does not fit an int (or is not whole). */
    private static Input hugeNumber(Random random, int i) {
        String json =
                "{\"id\":\"h"
                        + i
                        + "\",\"amount\":"
                        + HUGE_NUMBERS[random.nextInt(HUGE_NUMBERS.length)]
                        + "}";
        return new Input("huge-number", utf8(json), null);
    }

    private static String key(int i) {
        return "r" + i;
    }

    @Test
    void shouldDeadLetterExactlyTheInvalidRecordsWithoutARestart() throws Exception {
        List<Input> inputs = generate(seeds.random());
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("fuzz", 3);
        String out = kafka.createUniqueTopic("fuzz-out", 2);
        String dlq = KafkaTestClient.uniqueTopicName("fuzz-dlq");
        List<KeyValue<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            records.add(KeyValue.of(utf8(key(i)), inputs.get(i).value()));
        }
        kafka.produceBytes(in, records);

        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics();
        StreamExecutionEnvironment env = env(reporter);
        DataStream<Event> events =
                KafkaIn.<Event>builder()
                        .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                        .setTopics(in)
                        .setGroupId("g-" + in)
                        .setDeserializer(KafkaDeserializers.values(JsonSerde.of(Event.class)))
                        .setErrorPolicy(ErrorPolicy.deadLetter(dlq))
                        .setBounded(true)
                        .build()
                        .createStream(env);
        KafkaOut.<Event>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setKey(Event::id, Serdes.string())
                .setValue(e -> e, JsonSerde.of(Event.class))
                .setTransactionalIdPrefix("tx-" + out)
                .build()
                .writeTo(events);
        JobExecutionResult result = env.execute("json fuzz");

        assertThat(restarts(reporter, result)).as("restarts of the job").isZero();

        Map<String, Input> invalid = new TreeMap<>();
        Map<String, Event> valid = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Input input = inputs.get(i);
            if (input.valid()) {
                valid.put(input.expected().id(), input.expected());
            } else if (!input.tombstone()) {
                invalid.put(key(i), input);
            }
        }
        assertThat(KafkaTestClient.countBy(inputs, Input::category))
                .as("the generator covers every category")
                .containsOnlyKeys(
                        "empty",
                        "tombstone",
                        "random-bytes",
                        "valid",
                        "invalid-utf8",
                        "truncated-json",
                        "wrong-shape",
                        "huge-number");

        List<ConsumerRecord<byte[], byte[]>> letters =
                kafka.consumeAllBytes(dlq, KafkaTestClient.DEFAULT_IDLE);
        Map<String, Long> letterKeys =
                KafkaTestClient.countBy(letters, r -> new String(r.key(), StandardCharsets.UTF_8));
        assertThat(letterKeys.values()).as("each dead letter once").allMatch(n -> n == 1);
        assertThat(new TreeMap<>(letterKeys).keySet())
                .as("dead-lettered keys; missing: %s", describeMissing(invalid, letterKeys))
                .isEqualTo(invalid.keySet());
        for (ConsumerRecord<byte[], byte[]> letter : letters) {
            Input input = invalid.get(new String(letter.key(), StandardCharsets.UTF_8));
            assertThat(letter.value()).as("original bytes").isEqualTo(input.value());
            assertThat(header(letter, DeadLetter.STAGE)).isEqualTo("DESERIALIZE");
            assertThat(header(letter, DeadLetter.TOPIC)).isEqualTo(in);
        }

        JsonSerde<Event> json = JsonSerde.of(Event.class);
        List<ConsumerRecord<String, String>> written = kafka.consumeAll(out);
        assertThat(written).as("each valid record once").hasSize(valid.size());
        Map<String, Event> output =
                written.stream()
                        .map(r -> json.deserialize(utf8(r.value())))
                        .collect(Collectors.toMap(Event::id, Function.identity()));
        assertThat(output).isEqualTo(valid);
    }

    private static StreamExecutionEnvironment env(InMemoryReporter reporter) {
        Configuration conf = reporter.addToConfiguration(new Configuration());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        // Restarts are allowed, so a failure that recovers would go unnoticed but for the
        // numRestarts metric, which the test asserts to be 0.
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);
        return env;
    }

    private static long restarts(InMemoryReporter reporter, JobExecutionResult result) {
        Map<String, Metric> metrics = reporter.getMetricsByIdentifiers(result.getJobID());
        List<Long> values =
                metrics.entrySet().stream()
                        .filter(e -> e.getKey().endsWith(".numRestarts"))
                        .map(e -> ((Number) ((Gauge<?>) e.getValue()).getValue()).longValue())
                        .collect(Collectors.toList());
        assertThat(values).as("numRestarts metric of the job").isNotEmpty();
        return values.stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    private static String describeMissing(Map<String, Input> invalid, Map<String, Long> letters) {
        return invalid.entrySet().stream()
                .filter(e -> !letters.containsKey(e.getKey()))
                .limit(20)
                .map(
                        e ->
                                e.getKey()
                                        + "="
                                        + e.getValue().category()
                                        + ":"
                                        + new String(e.getValue().value(), StandardCharsets.UTF_8))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
