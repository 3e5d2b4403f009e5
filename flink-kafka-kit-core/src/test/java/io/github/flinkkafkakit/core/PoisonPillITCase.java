package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.Seeds;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kind of poison pill in one input, in the style of Kafka's and Flink's failure tests: with
 * {@link ErrorPolicy#deadLetter} each bad input record lands in the input's dead-letter topic with
 * its context headers, the one output record too large for the producer lands in the output's
 * dead-letter topic, every good record is written exactly once, and the job never restarts (the
 * restart strategy is "none": any failure fails the test).
 */
class PoisonPillITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** A fresh seed per run; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    private static final int GOOD = 10_000;

    /** Input values just below what the producer and broker accept (1 MiB). */
    private static final int NEAR_LIMIT = 1_046_000;

    /** The event type of the JSON source. */
    public record Event(String id, int amount) {}

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The bad input values by name (the name is also the record key). */
    private static Map<String, byte[]> pills(Random random) {
        Map<String, byte[]> pills = new LinkedHashMap<>();
        pills.put(
                "invalid-utf8",
                new byte[] {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC3, 0x28, '"', '}'});
        pills.put("random-bytes", randomBytes(random, 512));
        pills.put("malformed-json", utf8("{\"id\": \"e1\", amount: }"));
        pills.put("truncated-json", utf8("{\"id\":\"e2\",\"amo"));
        pills.put("wrong-type", utf8("{\"id\":\"e3\",\"amount\":\"lots\"}"));
        pills.put("missing-field", utf8("{\"id\":\"e4\"}"));
        pills.put("not-an-object", utf8("[1,2,3]"));
        pills.put("json-null", utf8("null"));
        pills.put("trailing-garbage", utf8("{\"id\":\"e5\",\"amount\":5} xyz"));
        pills.put("empty-value", new byte[0]);
        pills.put("oversized-value", utf8("x".repeat(NEAR_LIMIT)));
        return pills;
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        bytes[0] = (byte) 0xFF; // never valid UTF-8 / JSON
        return bytes;
    }

    @Test
    void shouldDeadLetterEveryPoisonPillWithoutARestartAndKeepTheOutputExact() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("pills", 2);
        String out = kafka.createUniqueTopic("pills-out", 2);
        String inDlq = KafkaTestClient.uniqueTopicName("pills-dlq");
        String outDlq = KafkaTestClient.uniqueTopicName("pills-out-dlq");
        List<KeyValue<byte[], byte[]>> records = new ArrayList<>();
        Set<String> goodIds = new HashSet<>();
        for (int i = 0; i < GOOD; i++) {
            goodIds.add("e" + i);
            records.add(
                    KeyValue.of(
                            utf8("k" + i), utf8("{\"id\":\"e" + i + "\",\"amount\":" + i + "}")));
        }
        Random random = seeds.random();
        Map<String, byte[]> pills = pills(random);
        pills.forEach(
                (name, value) ->
                        records.add(
                                random.nextInt(records.size()), KeyValue.of(utf8(name), value)));
        // A valid event whose output record is larger than the sink's producer accepts.
        String hugeId = "h".repeat(20_000);
        records.add(
                random.nextInt(records.size()),
                KeyValue.of(utf8("huge-output"), utf8("{\"id\":\"" + hugeId + "\",\"amount\":1}")));
        // A tombstone: no value at all. The value deserializer skips it (documented), no letter.
        records.add(random.nextInt(records.size()), KeyValue.of(utf8("tombstone"), null));
        kafka.produceBytes(in, records);

        StreamExecutionEnvironment env = noRestarts();
        DataStream<Event> events =
                KafkaIn.<Event>builder()
                        .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                        .setTopics(in)
                        .setGroupId("g-" + in)
                        .setDeserializer(KafkaDeserializers.values(JsonSerde.of(Event.class)))
                        .setErrorPolicy(ErrorPolicy.deadLetter(inDlq))
                        .setBounded(true)
                        .build()
                        .createStream(env);
        KafkaOut.<Event>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setKey(Event::id, Serdes.string())
                .setValue(e -> e, JsonSerde.of(Event.class))
                .setTransactionalIdPrefix("tx-" + out)
                .setProperty("max.request.size", "8192")
                .setErrorPolicy(ErrorPolicy.deadLetter(outDlq))
                .build()
                .writeTo(events);
        env.execute("poison pills"); // restart strategy none: any failure throws here

        // The job has ended: all it committed is below the last stable offsets.
        List<ConsumerRecord<String, String>> written =
                CommittedOutput.read(KAFKA.bootstrapServers(), out);
        Map<String, Long> perId =
                written.stream()
                        .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
        long lost = goodIds.stream().filter(id -> !perId.containsKey(id)).count();
        long duplicated =
                perId.values().stream().mapToLong(n -> n - 1).sum()
                        + perId.keySet().stream().filter(id -> !goodIds.contains(id)).count();
        List<ConsumerRecord<byte[], byte[]>> inLetters =
                CommittedOutput.readBytes(KAFKA.bootstrapServers(), inDlq);
        List<ConsumerRecord<byte[], byte[]>> outLetters =
                CommittedOutput.readBytes(KAFKA.bootstrapServers(), outDlq);
        Map<String, ConsumerRecord<byte[], byte[]>> byKey =
                inLetters.stream()
                        .collect(
                                Collectors.toMap(
                                        r -> new String(r.key(), StandardCharsets.UTF_8), r -> r));
        long lettersMissing =
                pills.keySet().stream().filter(p -> !byKey.containsKey(p)).count()
                        + (outLetters.size() == 1 ? 0 : 1);
        long lostAll = lost + lettersMissing;
        long duplicatedAll = duplicated + Math.max(0, inLetters.size() - pills.size());
        ReliabilityResult.of(
                        ReliabilityScenario.POISON_PILLS,
                        String.format(
                                "poison pills (%d kinds incl. a %,d-byte value) and an oversized"
                                        + " output record, dead-letter policy, exactly-once",
                                pills.size(), NEAR_LIMIT))
                .recordsIn(records.size())
                .lost(lostAll)
                .duplicated(duplicatedAll)
                .restarts(0) // restart strategy none: a restart would have failed the job
                .deadLetters(inLetters.size() + outLetters.size())
                .seed(5)
                .verify(
                        () -> {
                            assertThat(perId.keySet()).as("output ids").isEqualTo(goodIds);
                            assertThat(written).as("each good record written once").hasSize(GOOD);
                            assertThat(byKey.keySet())
                                    .as("dead letters of the input")
                                    .isEqualTo(pills.keySet());
                            assertThat(inLetters).hasSize(pills.size());
                            for (Map.Entry<String, byte[]> pill : pills.entrySet()) {
                                ConsumerRecord<byte[], byte[]> letter = byKey.get(pill.getKey());
                                assertThat(header(letter, DeadLetter.STAGE))
                                        .isEqualTo("DESERIALIZE");
                                assertThat(header(letter, DeadLetter.TOPIC)).isEqualTo(in);
                                assertThat(Integer.parseInt(header(letter, DeadLetter.PARTITION)))
                                        .isBetween(0, 1);
                                assertThat(Long.parseLong(header(letter, DeadLetter.OFFSET)))
                                        .isNotNegative();
                                assertThat(header(letter, DeadLetter.EXCEPTION)).isNotBlank();
                                assertThat(header(letter, DeadLetter.MESSAGE)).isNotBlank();
                                if (pill.getKey().equals("oversized-value")) {
                                    // The letter must fit into the dead-letter topic: the value is
                                    // cut, not lost.
                                    assertThat(letter.value().length)
                                            .isPositive()
                                            .isLessThan(NEAR_LIMIT);
                                    assertThat(pill.getValue()).startsWith(letter.value());
                                } else {
                                    assertThat(letter.value())
                                            .as(pill.getKey())
                                            .isEqualTo(pill.getValue());
                                }
                            }
                            assertThat(outLetters).hasSize(1);
                            ConsumerRecord<byte[], byte[]> big = outLetters.get(0);
                            assertThat(header(big, DeadLetter.STAGE)).isEqualTo("PRODUCE");
                            assertThat(header(big, DeadLetter.EXCEPTION))
                                    .isEqualTo(
                                            "org.apache.kafka.common.errors.RecordTooLargeException");
                            assertThat(header(big, DeadLetter.TOPIC)).isEqualTo(out);
                        });
    }

    private static StreamExecutionEnvironment noRestarts() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);
        return env;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
