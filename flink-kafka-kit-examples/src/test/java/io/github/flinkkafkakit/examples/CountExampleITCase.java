package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The count example against a real (embedded) broker, read back with read_committed. */
class CountExampleITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int RECORDS = 20_000;

    /** Skewed keys: key i appears about 1/i as often as key 1. */
    private static List<KeyValue<String, String>> skewedRecords(int n) {
        SampleData data = new SampleData(300, 1.1, 7);
        List<KeyValue<String, String>> records = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            records.add(KeyValue.of("key-" + data.nextRank(), "v" + i));
        }
        return records;
    }

    private static Map<String, String> expectedCounts(List<KeyValue<String, String>> records) {
        return KafkaTestClient.countBy(records, KeyValue::key).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> Long.toString(e.getValue())));
    }

    @ParameterizedTest(name = "{0}, parallelism {1}, emit {2}")
    @CsvSource({
        "exactly-once, 1, on-checkpoint",
        "exactly-once, 2, on-checkpoint",
        "exactly-once, 3, every-record",
        "at-least-once, 2, on-checkpoint",
        "at-least-once, 3, every-record"
    })
    void shouldLeaveTheExactCountAsLastValueOfEveryKey(
            String guarantee, int parallelism, String emit) {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("count-in", 3);
        String out = KafkaTestClient.uniqueTopicName("count-out");
        List<KeyValue<String, String>> records = skewedRecords(RECORDS);
        kafka.produce(in, records);

        ExampleRun run =
                ExampleRun.of(
                        "count",
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--input-topic",
                        in,
                        "--output-topic",
                        out,
                        "--group-id",
                        "g-" + in,
                        "--guarantee",
                        guarantee,
                        "--parallelism",
                        Integer.toString(parallelism),
                        "--checkpoint-interval",
                        "300ms",
                        "--bounded");

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(kafka.latestValuePerKey(out)).isEqualTo(expectedCounts(records));
    }

    @Test
    void shouldStayExactWhenATaskFailsMidStream() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("fail-in", 2);
        String out = kafka.createUniqueTopic("fail-out", 2);
        List<KeyValue<String, String>> records = skewedRecords(RECORDS);
        kafka.produce(in, records);
        FailOnce.reset(RECORDS / 2);

        StreamExecutionEnvironment env =
                JobEnvironment.create(2, Guarantee.EXACTLY_ONCE, Duration.ofMillis(200));
        CountExample.Settings settings =
                new CountExample.Settings(
                        in,
                        out,
                        "g-" + in,
                        Guarantee.EXACTLY_ONCE,
                        true,
                        io.github.flinkkafkakit.core.count.EmitPolicy.EVERY_RECORD);
        CountExample.buildPipeline(
                        env,
                        KafkaConnection.of(KAFKA.bootstrapServers()),
                        settings,
                        keys -> keys.map(new FailOnce()).name("fail once"))
                .getClass();
        env.execute("count with one failure");

        assertThat(FailOnce.FAILED.get()).as("the failure was injected").isTrue();
        // Under exactly-once each key's committed outputs are exactly 1..n: no count lost,
        // none written twice, although the job restarted from a checkpoint.
        Map<String, List<Long>> valuesPerKey = new HashMap<>();
        for (ConsumerRecord<String, String> r : kafka.consumeAll(out)) {
            valuesPerKey
                    .computeIfAbsent(r.key(), k -> new ArrayList<>())
                    .add(Long.parseLong(r.value()));
        }
        Map<String, Long> expected = KafkaTestClient.countBy(records, KeyValue::key);
        assertThat(valuesPerKey.keySet()).isEqualTo(expected.keySet());
        expected.forEach(
                (key, n) ->
                        assertThat(new TreeSet<>(valuesPerKey.get(key)))
                                .as(key)
                                .containsExactlyElementsOf(
                                        LongStream.rangeClosed(1, n)
                                                .boxed()
                                                .collect(Collectors.toList())));
        expected.forEach(
                (key, n) -> assertThat(valuesPerKey.get(key)).as(key).hasSize(n.intValue()));
    }

    @Test
    void shouldRunOnTheEmbeddedBrokerWithNoOptions() {
        ExampleRun run = ExampleRun.of("count", "--records", "5000");

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).contains("Top 10 keys by count").contains("counts exact");
    }

    /** Throws once, after {@code failAfter} records have passed through all subtasks. */
    static final class FailOnce extends RichMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        static final AtomicBoolean FAILED = new AtomicBoolean();
        static final AtomicLong SEEN = new AtomicLong();
        static volatile long failAfter;

        static void reset(long after) {
            FAILED.set(false);
            SEEN.set(0);
            failAfter = after;
        }

        @Override
        public String map(String key) {
            if (SEEN.incrementAndGet() >= failAfter && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure");
            }
            return key;
        }
    }
}
