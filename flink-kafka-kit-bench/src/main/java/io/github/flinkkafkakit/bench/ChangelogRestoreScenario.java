package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.state.KafkaChangelog;
import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code changelog-restore}: the {@code stateful-total} job started with no Flink state over a
 * changelog of {@code keys} keys (key {@code i} → total {@code i}) rebuilds its state from Kafka.
 * The rate is keys restored per second of the slowest parallel instance's restore (as the job's
 * restore listener reports it); start-up is the rest of the job. A few deposits then prove the
 * restored state: key {@code i} must end at {@code i + 1}.
 */
final class ChangelogRestoreScenario implements EndToEndScenario {

    /** Keys that get a deposit of 1 after the restore. */
    private static final int CHECKED_KEYS = 1_000;

    /** Restores reported by the job's instances (same JVM): subtask → {records, millis}. */
    private static final Map<Integer, long[]> RESTORED = new ConcurrentHashMap<>();

    private final int keys;

    ChangelogRestoreScenario(int keys) {
        this.keys = keys;
    }

    @Override
    public String name() {
        return "changelog-restore";
    }

    /** {@code input} is unused: the changelog is written here, {@code keys} keys. */
    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String stateTopic =
                context.createTopic(
                        "restore-state",
                        KafkaChangelog.DEFAULT_PARTITIONS,
                        Map.of("cleanup.policy", "compact"));
        ChangelogRestoreBench.write(context.bootstrapServers(), stateTopic, keys);
        String deposits = context.createTopic("restore-in");
        writePosition(context.bootstrapServers(), stateTopic + "-positions", deposits);
        int checked = Math.min(CHECKED_KEYS, keys);
        writeDeposits(context.bootstrapServers(), deposits, checked);
        String output = context.createTopic("restore-out");

        StreamExecutionEnvironment env = context.flink(CheckpointingMode.EXACTLY_ONCE);
        KitChangelogScenario.buildJob(env, context, deposits, output, stateTopic, new Times());
        RESTORED.clear();
        long start = System.nanoTime();
        env.execute(name());
        double jobSeconds = (System.nanoTime() - start) / 1e9;

        long restored = 0;
        long slowestMillis = 0;
        for (long[] r : RESTORED.values()) {
            restored += r[0];
            slowestMillis = Math.max(slowestMillis, r[1]);
        }
        if (restored != keys) {
            throw new IllegalStateException(
                    "restored " + restored + " changelog records, expected " + keys);
        }
        long[] expected = new long[keys];
        for (int i = 0; i < checked; i++) {
            expected[i] = i + 1;
        }
        EndToEndOutput result = EndToEndOutput.read(context.bootstrapServers(), output, keys);
        // Only keys with a deposit are emitted; key 0 has total 0 + 1 = 1, so none is "missing".
        result.checkLatest(expected, "total");
        double seconds = Math.max(slowestMillis, 1) / 1e3;
        return new Measurement(
                restored,
                seconds,
                jobSeconds - seconds,
                String.format(
                        "%,d keys restored by %d instance(s); totals of %,d keys exact after"
                                + " deposits",
                        restored, RESTORED.size(), checked));
    }

    /**
     * The positions a job that wrote the changelog left: the deposits topic not read yet (offset
     * 0). A changelog with state but no positions is refused at start (the input would be counted
     * again on top of it), as it should be.
     */
    private static void writePosition(String bootstrapServers, String positionsTopic, String input)
            throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(
                            List.of(
                                    new NewTopic(positionsTopic, 1, (short) 1)
                                            .configs(Map.of("cleanup.policy", "compact"))))
                    .all()
                    .get();
        }
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(
                            new ProducerRecord<>(
                                    positionsTopic,
                                    0,
                                    (input + "/0").getBytes(StandardCharsets.UTF_8),
                                    "0".getBytes(StandardCharsets.US_ASCII)))
                    .get();
        }
    }

    private static void writeDeposits(String bootstrapServers, String topic, int keys) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < keys; i++) {
                producer.send(
                        new ProducerRecord<>(
                                topic, Keys.key(i), "1".getBytes(StandardCharsets.US_ASCII)));
            }
            producer.flush();
        }
    }

    /** Collects each instance's restore (the job runs in this JVM). */
    static final class Times implements RestoreListener {
        private static final long serialVersionUID = 1L;

        @Override
        public void onProgress(int subtask, long recordsRead, boolean done) {}

        @Override
        public void onRestored(int subtask, long recordsRead, long restoreMillis) {
            RESTORED.put(subtask, new long[] {recordsRead, restoreMillis});
        }
    }
}
