package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.state.internal.ChangedStringKeys;
import io.github.flinkkafkakit.state.internal.ChangelogKeys;
import io.github.flinkkafkakit.state.internal.ChangelogRestorer;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Restore speed of Kafka changelog state: writes a changelog of N keys (default 1,000,000; the
 * layout the changelog operator writes: 4 partitions, uncompressed) to an embedded broker (or
 * {@code --bootstrap-servers}), then restores it with the real {@link ChangelogRestorer} as 1 and 2
 * parallel instances would (each reading only its key groups, decoding key and value into a map),
 * three times each, and prints keys restored per second.
 *
 * <p>Run: {@code java -cp flink-kafka-kit-bench/target/benchmarks.jar
 * io.github.flinkkafkakit.bench.ChangelogRestoreBench [keys]}.
 */
public final class ChangelogRestoreBench {

    private static final int PARTITIONS = 4;
    private static final int MAX_PARALLELISM = 128;

    /** Keys written per transaction of the changelog (as one checkpoint's changes). */
    private static final int KEYS_PER_TRANSACTION = 100_000;

    private ChangelogRestoreBench() {}

    public static void main(String[] args) throws Exception {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
                KafkaTestClient kafka = broker.client()) {
            String topic = "restore-bench";
            kafka.createTopic(topic, PARTITIONS, Map.of("cleanup.policy", "compact"));
            write(broker.bootstrapServers(), topic, keys);
            KafkaConnection connection = KafkaConnection.of(broker.bootstrapServers());
            for (int round = 0; round < 3; round++) {
                for (int parallelism : new int[] {1, 2}) {
                    long start = System.nanoTime();
                    long restored = restore(connection, topic, parallelism);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf(
                            Locale.ROOT,
                            "parallelism %d: %,d keys in %.2f s = %,.0f keys/s%n",
                            parallelism,
                            restored,
                            seconds,
                            restored / seconds);
                }
            }
        }
    }

    /**
     * Writes a changelog of state "total" of a pipeline's first function with values 0 .. keys-1
     * (String key {@code %010d} of i → i) as the operator does under exactly-once: in transactions
     * (one per {@link #KEYS_PER_TRANSACTION} keys, as if each were a checkpoint's changes), so the
     * changelog holds commit markers as a real one does, and the restore reads it {@code
     * read_committed} with them. Each transaction lists its keys in the order the operator writes a
     * checkpoint's changed keys: the order of its changed-key set ({@link ChangedStringKeys},
     * hash-table slot order).
     */
    static void write(String bootstrap, String topic, int keys) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("linger.ms", "5");
        props.put("batch.size", "262144");
        props.put("transactional.id", "fkk-bench-changelog-" + topic);
        // Records are scoped by the operator's uid: a ChangelogPipeline's first function is
        // fkk-changelog-<topic>-0, and its state "total" is written as <uid>/total.
        byte[] prefix = ChangelogKeys.prefix("fkk-changelog-" + topic + "-0/total");
        DataOutputSerializer out = new DataOutputSerializer(32);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            ChangedStringKeys changed = new ChangedStringKeys();
            for (int first = 0; first < keys; first += KEYS_PER_TRANSACTION) {
                changed.clear();
                int end = Math.min(keys, first + KEYS_PER_TRANSACTION);
                for (int i = first; i < end; i++) {
                    changed.add(String.format("%010d", i));
                }
                producer.beginTransaction();
                for (Object changedKey : changed) { // in the order the operator writes them
                    String key = (String) changedKey;
                    out.clear();
                    StringSerializer.INSTANCE.serialize(key, out);
                    byte[] keyBytes = out.getCopyOfBuffer();
                    int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_PARALLELISM);
                    out.clear();
                    out.writeLong(Long.parseLong(key));
                    producer.send(
                            new ProducerRecord<>(
                                    topic,
                                    ChangelogKeys.partitionOf(
                                            keyGroup, MAX_PARALLELISM, PARTITIONS),
                                    ChangelogKeys.recordKey(keyGroup, prefix, keyBytes, null),
                                    out.getCopyOfBuffer()));
                }
                producer.commitTransaction();
            }
        }
    }

    private static long restore(KafkaConnection connection, String topic, int parallelism)
            throws Exception {
        AtomicLong total = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        for (int subtask = 0; subtask < parallelism; subtask++) {
            KeyGroupRange range =
                    KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                            MAX_PARALLELISM, parallelism, subtask);
            Thread thread =
                    new Thread(
                            () -> {
                                Map<String, Long> state = new HashMap<>();
                                DataInputDeserializer in = new DataInputDeserializer();
                                try {
                                    total.addAndGet(
                                            new ChangelogRestorer(
                                                            connection,
                                                            topic,
                                                            PARTITIONS,
                                                            MAX_PARALLELISM,
                                                            range)
                                                    .restore(
                                                            (recordKey, value) -> {
                                                                int from =
                                                                        ChangelogKeys.userKeyStart(
                                                                                recordKey);
                                                                in.setBuffer(
                                                                        recordKey,
                                                                        from,
                                                                        ChangelogKeys.userKeyEnd(
                                                                                        recordKey)
                                                                                - from);
                                                                String key =
                                                                        StringSerializer.INSTANCE
                                                                                .deserialize(in);
                                                                in.setBuffer(value);
                                                                state.put(key, in.readLong());
                                                            },
                                                            n -> {}));
                                } catch (Exception e) {
                                    synchronized (failures) {
                                        failures.add(e);
                                    }
                                }
                            });
            threads.add(thread);
            thread.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        return total.get();
    }
}
