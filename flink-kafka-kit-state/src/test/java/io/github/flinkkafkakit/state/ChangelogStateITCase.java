package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.state.internal.ChangelogKeys;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jobs started again with no Flink checkpoint, at other parallelisms: the totals come back from the
 * Kafka changelog and continue exactly (read back with read_committed).
 */
class ChangelogStateITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final TypeInformation<Tuple2<String, Long>> TOTALS =
            Types.TUPLE(Types.STRING, Types.LONG);

    /**
     * Filled by the restore listener. Flink loads the job's classes in its own class loader, so the
     * counter lives in the JVM-wide system properties, not in a static field of this class.
     */
    static final AtomicLong RESTORED = new AtomicLong();

    static {
        System.getProperties().put("fkk.test.restored", RESTORED);
    }

    private static void countRestored(int subtask, long records, boolean done) {
        if (done) {
            ((AtomicLong) System.getProperties().get("fkk.test.restored")).addAndGet(records);
        }
    }

    private final Map<String, Long> expected = new HashMap<>();
    private final Random random = new Random(11);

    private void produceBatch(KafkaTestClient kafka, String topic, int records, int keys) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            int id = (int) Math.floor(Math.pow(random.nextDouble(), 2) * keys);
            // mostly ASCII keys (restored from their bytes), some not (restored as Strings)
            String key = id % 7 == 3 ? "ü" + id : id % 11 == 5 ? "\uD83D\uDE00" + id : "k" + id;
            long value = random.nextInt(100) - 20;
            batch.add(KeyValue.of(key, Long.toString(value)));
            expected.merge(key, value, Long::sum);
        }
        kafka.produce(topic, batch);
    }

    static void runTotals(
            String in, String out, String stateTopic, int parallelism, RestoreListener listener)
            throws Exception {
        runTotals(in, out, stateTopic, parallelism, listener, "hashmap");
    }

    /** Runs the bounded totals job on {@code backend} ({@code hashmap} or {@code rocksdb}). */
    static void runTotals(
            String in,
            String out,
            String stateTopic,
            int parallelism,
            RestoreListener listener,
            String backend)
            throws Exception {
        totals(in, out, stateTopic, parallelism, listener, true, null, null, backend)
                .execute("totals p=" + parallelism + " on " + backend);
    }

    /** The totals job, not started. */
    static StreamExecutionEnvironment totals(
            String in,
            String out,
            String stateTopic,
            int parallelism,
            RestoreListener listener,
            boolean bounded,
            String savepoint) {
        return totals(
                in, out, stateTopic, parallelism, listener, bounded, savepoint, null, "hashmap");
    }

    /**
     * The totals job with a time to live for the totals (null: none) on a state backend ({@code
     * hashmap}: String keys in the kit's tables; {@code rocksdb}: in RocksDB, written behind), not
     * started.
     */
    static StreamExecutionEnvironment totals(
            String in,
            String out,
            String stateTopic,
            int parallelism,
            RestoreListener listener,
            boolean bounded,
            String savepoint,
            Duration ttl,
            String backend) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, backend);
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(connection)
                        .setTopics(in)
                        .setGroupId("totals-" + stateTopic)
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .setErrorPolicy(ErrorPolicy.deadLetter(in + "-dlq"))
                        .setBounded(bounded)
                        .build();
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(stateTopic)
                        .setRestoreListener(listener)
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(ttl), TOTALS);
        job.writeOutput(totals, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        return env;
    }

    private Map<String, String> expectedAsText() {
        Map<String, String> result = new TreeMap<>();
        expected.forEach((k, v) -> result.put(k, Long.toString(v)));
        return result;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void shouldResumeExactlyWithoutACheckpointAndAcrossRescaling(String backend) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("totals-in", 3);
        String out = KafkaTestClient.uniqueTopicName("totals-out");
        String state = KafkaTestClient.uniqueTopicName("totals-state");

        produceBatch(kafka, in, 5_000, 300);
        runTotals(in, out, state, 1, null, backend);
        assertThat(new TreeMap<>(kafka.latestValuePerKey(out))).isEqualTo(expectedAsText());
        // Each changed key is written once per checkpoint, so a slow first run can write a key
        // more than once: every committed changelog record is what the restore must read.
        long changelogRecords =
                kafka.consumeAllBytes(state, Duration.ofSeconds(1)).stream()
                        .filter(r -> !ChangelogKeys.isCommitMarker(r.key()))
                        .count();
        assertThat(changelogRecords).isGreaterThanOrEqualTo(expected.size());

        // A new job, no Flink state, parallelism 1 -> 3: state and positions come from Kafka.
        produceBatch(kafka, in, 5_000, 400);
        RESTORED.set(0);
        runTotals(in, out, state, 3, ChangelogStateITCase::countRestored, backend);
        assertThat(new TreeMap<>(kafka.latestValuePerKey(out))).isEqualTo(expectedAsText());
        // Every changelog record was restored exactly once, by the subtask owning its key group.
        assertThat(RESTORED.get()).as("changelog records restored").isEqualTo(changelogRecords);

        // 3 -> 2.
        produceBatch(kafka, in, 5_000, 500);
        runTotals(in, out, state, 2, null, backend);
        assertThat(new TreeMap<>(kafka.latestValuePerKey(out))).isEqualTo(expectedAsText());

        // A run with no new input changes nothing.
        runTotals(in, out, state, 2, null, backend);
        assertThat(new TreeMap<>(kafka.latestValuePerKey(out))).isEqualTo(expectedAsText());
    }

    /**
     * With a Flink savepoint, Flink's own restore applies (nothing is read from the changelog), and
     * the values changed since the last checkpoint, which the state keeps apart until the barrier,
     * are in the savepoint: totals continue exactly at another parallelism.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void shouldResumeExactlyFromAFlinkSavepointAtAnotherParallelism(
            String backend, @TempDir Path savepoints) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("totals-sp-in", 3);
        String out = KafkaTestClient.uniqueTopicName("totals-sp-out");
        String state = KafkaTestClient.uniqueTopicName("totals-sp-state");

        produceBatch(kafka, in, 5_000, 300);
        JobClient first =
                totals(in, out, state, 2, null, false, null, null, backend)
                        .executeAsync("totals p=2");
        awaitTotals(kafka, out);
        String savepoint =
                first.stopWithSavepoint(
                                false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                        .get(2, TimeUnit.MINUTES);

        produceBatch(kafka, in, 5_000, 400);
        RESTORED.set(0);
        JobClient resumed =
                totals(
                                in,
                                out,
                                state,
                                3,
                                ChangelogStateITCase::countRestored,
                                false,
                                savepoint,
                                null,
                                backend)
                        .executeAsync("totals p=3 from a savepoint");
        try {
            awaitTotals(kafka, out);
        } finally {
            resumed.cancel().get(2, TimeUnit.MINUTES);
        }
        assertThat(RESTORED.get()).as("changelog records restored").isZero();
    }

    /**
     * Without a TTL, String-keyed totals live in the operator's tables (raw keyed state in a
     * savepoint); with one, in Flink's state. A savepoint taken in one mode and resumed in the
     * other moves the values across, at another parallelism each time.
     */
    @Test
    void shouldKeepTotalsWhenASavepointMovesThemBetweenFlinkStateAndTheTable(
            @TempDir Path savepoints) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("totals-mv-in", 3);
        String out = KafkaTestClient.uniqueTopicName("totals-mv-out");
        String state = KafkaTestClient.uniqueTopicName("totals-mv-state");
        Duration ttl = Duration.ofHours(1);
        String savepoint = null;
        RESTORED.set(0);
        int step = 0;
        for (Duration mode : Arrays.asList(ttl, null, ttl)) {
            produceBatch(kafka, in, 4_000, 300 + 100 * step);
            int parallelism = step % 2 == 0 ? 2 : 3;
            JobClient job =
                    totals(
                                    in,
                                    out,
                                    state,
                                    parallelism,
                                    ChangelogStateITCase::countRestored,
                                    false,
                                    savepoint,
                                    mode,
                                    "hashmap")
                            .executeAsync("totals step " + step);
            awaitTotals(kafka, out);
            if (++step == 3) {
                job.cancel().get(2, TimeUnit.MINUTES);
            } else {
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        savepoints.toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get(2, TimeUnit.MINUTES);
            }
        }
        // the first run restored an empty changelog; the others came from the savepoints
        assertThat(RESTORED.get()).as("changelog records restored").isZero();
    }

    /** Waits until the committed output holds every key's expected total as its last value. */
    private void awaitTotals(KafkaTestClient kafka, String out) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        Map<String, String> last = Map.of();
        while (System.nanoTime() < deadline) {
            last = new TreeMap<>(kafka.latestValuePerKey(out, Duration.ofMillis(500)));
            if (last.equals(expectedAsText())) {
                return;
            }
            Thread.sleep(200);
        }
        assertThat(last).as("last total per key in '%s'", out).isEqualTo(expectedAsText());
    }
}
