package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.history.KeyedHistory;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The count job stopped with a savepoint at parallelism 2 and resumed from it at parallelism 3
 * continues every key's count exactly (Flink's key-group repartitioning of the kit's counting
 * state, the source's offsets and the exactly-once sink's transactions).
 */
class CountSavepointRescaleITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final Duration LIMIT = Duration.ofMinutes(2);

    private static List<KeyValue<String, String>> batch(int n, long seed) {
        Random random = new Random(seed);
        List<KeyValue<String, String>> records = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // Skewed: low ids far more often than high ones.
            records.add(KeyValue.of("key-" + (int) (Math.pow(random.nextDouble(), 3) * 500), "v"));
        }
        return records;
    }

    private static StreamExecutionEnvironment env(
            int parallelism, String backend, String savepoint) {
        Configuration conf = new Configuration();
        if (savepoint != null) {
            // Set in the job's configuration: a StreamGraph's own restore settings are not used
            // by executeAsync(graph), which then starts from scratch (and re-reads the input).
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        conf.set(StateBackendOptions.STATE_BACKEND, backend);
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(
                200, org.apache.flink.core.execution.CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void shouldContinueCountsExactlyAfterStopWithSavepointAtTwoAndRestoreAtThree(
            String backend, @TempDir Path savepoints) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("rescale-in", 3);
        String out = KafkaTestClient.uniqueTopicName("rescale-out");
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        CountExample.Settings settings =
                new CountExample.Settings(
                        in,
                        out,
                        "g-" + in,
                        Guarantee.EXACTLY_ONCE,
                        false,
                        EmitPolicy.ON_CHECKPOINT);
        Map<String, Long> expected = new HashMap<>();
        List<KeyValue<String, String>> first = batch(30_000, 1);
        first.forEach(r -> expected.merge(r.key(), 1L, Long::sum));
        kafka.produce(in, first);

        StreamExecutionEnvironment atTwo = env(2, backend, null);
        CountExample.buildPipeline(atTwo, connection, settings);
        JobClient job = atTwo.executeAsync("count at parallelism 2");
        awaitCounts(kafka, out, expected);
        String savepoint =
                job.stopWithSavepoint(
                                false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                        .get(LIMIT.toSeconds(), TimeUnit.SECONDS);

        List<KeyValue<String, String>> second = batch(30_000, 2);
        second.forEach(r -> expected.merge(r.key(), 1L, Long::sum));
        kafka.produce(in, second);

        StreamExecutionEnvironment atThree = env(3, backend, savepoint);
        CountJobProcess.Throttle.PROCESSED.set(0);
        CountExample.buildPipeline(
                atThree,
                connection,
                settings,
                keys -> keys.map(new CountJobProcess.Throttle(0)).name("count records read"));
        JobClient resumed = atThree.executeAsync("count at parallelism 3 from a savepoint");
        try {
            awaitCounts(kafka, out, expected);
        } finally {
            resumed.cancel().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(kafka.latestValuePerKey(out)).isEqualTo(asText(expected));
        // The whole history: every key's counts strictly increase across the savepoint (a job
        // that started from scratch instead would count from 1 again).
        KeyedHistory<String> history = new KeyedHistory<>();
        first.forEach(r -> history.input(r.key(), 1));
        second.forEach(r -> history.input(r.key(), 1));
        for (ConsumerRecord<String, String> r :
                CommittedOutput.read(KAFKA.bootstrapServers(), out)) {
            history.output(r.key(), Long.parseLong(r.value()));
        }
        KeyedHistory.Verdict verdict = history.checkRunningTotals(false);
        assertThat(verdict.isExact()).as(verdict.toString()).isTrue();
        // Resumed from the savepoint: it read only what came after it (a job that started over
        // would read both batches and could still end at the right counts).
        assertThat(CountJobProcess.Throttle.PROCESSED.get())
                .as("records the resumed job read")
                .isEqualTo(second.size());
    }

    /** Waits until the committed output holds the expected count as every key's last value. */
    private static void awaitCounts(KafkaTestClient kafka, String out, Map<String, Long> expected)
            throws InterruptedException {
        Map<String, String> want = asText(expected);
        long deadline = System.nanoTime() + LIMIT.toNanos();
        Map<String, String> last = Map.of();
        while (System.nanoTime() < deadline) {
            last = kafka.latestValuePerKey(out, Duration.ofMillis(500));
            if (last.equals(want)) {
                return;
            }
            Thread.sleep(200);
        }
        assertThat(last).as("last count per key in '%s'", out).isEqualTo(want);
    }

    private static Map<String, String> asText(Map<String, Long> counts) {
        Map<String, String> text = new HashMap<>();
        counts.forEach((k, v) -> text.put(k, Long.toString(v)));
        return text;
    }
}
