package io.github.flinkkafkakit.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiConsumer;

/**
 * Reads a scenario's output topic back (committed records only) and checks it against what the
 * input demands. Keys are the input's 10-digit ids, values decimal numbers.
 */
final class EndToEndOutput {

    /** Per key id: the last value seen ({@code -1}: none), how many records, and their sum. */
    final long[] latest;

    final long[] counts;
    final long[] sums;
    long records;

    private EndToEndOutput(int keys) {
        latest = new long[keys];
        java.util.Arrays.fill(latest, -1);
        counts = new long[keys];
        sums = new long[keys];
    }

    static EndToEndOutput read(String bootstrapServers, String topic, int keys)
            throws InterruptedException {
        EndToEndOutput out = new EndToEndOutput(keys);
        out.records =
                readCommitted(
                        bootstrapServers,
                        topic,
                        (key, bytes) -> {
                            int id = parseId(key);
                            long value = parseLong(bytes);
                            out.latest[id] = value;
                            out.counts[id]++;
                            out.sums[id] += value;
                        });
        return out;
    }

    /**
     * Hands every committed record of {@code topic} to {@code each}, from the beginning to the
     * settled end (see {@link #settledEnd}); returns how many there were.
     */
    static long readCommitted(
            String bootstrapServers, String topic, BiConsumer<byte[], byte[]> each)
            throws InterruptedException {
        long records = 0;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = settledEnd(bootstrapServers, consumer, partitions);
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (!reachedEnd(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "could not read '" + topic + "' to its end within 2 minutes");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    each.accept(r.key(), r.value());
                    records++;
                }
            }
        }
        return records;
    }

    /**
     * The committed end of each partition once no transaction is open on it (the job's last commit
     * may land just after the job reported its end), waiting up to 30 s; then whatever is
     * committed.
     */
    private static Map<TopicPartition, Long> settledEnd(
            String bootstrapServers,
            KafkaConsumer<byte[], byte[]> committed,
            List<TopicPartition> partitions)
            throws InterruptedException {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (KafkaConsumer<byte[], byte[]> uncommitted =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                Map<TopicPartition, Long> end = committed.endOffsets(partitions);
                if (end.equals(uncommitted.endOffsets(partitions))
                        || System.nanoTime() > deadline) {
                    return end;
                }
                Thread.sleep(100);
            }
        }
    }

    private static boolean reachedEnd(
            KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Every key of the input has the expected last value, and no other key appears. */
    void checkLatest(long[] expected, String what) {
        check(latest, expected, what, true);
    }

    /** Every key of the input appears exactly as often as in the input with the same sum. */
    void checkCopy(EndToEndInput input) {
        check(counts, input.counts, "records", false);
        check(sums, input.sums, "value sum", false);
    }

    private void check(long[] actual, long[] expected, String what, boolean absentIsMinusOne) {
        int wrong = 0;
        String first = null;
        for (int id = 0; id < expected.length; id++) {
            long want = expected[id] == 0 && absentIsMinusOne ? -1 : expected[id];
            if (actual[id] != want) {
                if (first == null) {
                    first =
                            String.format(
                                    "key %010d: %s %s, expected %s",
                                    id,
                                    what,
                                    actual[id] < 0 ? "missing" : actual[id],
                                    want < 0 ? "none" : want);
                }
                wrong++;
            }
        }
        if (wrong > 0) {
            throw new IllegalStateException(wrong + " keys wrong, first " + first);
        }
    }

    private static int parseId(byte[] key) {
        if (key == null || key.length != 10) {
            throw new IllegalStateException(
                    "unexpected output key "
                            + (key == null ? "null" : new String(key, StandardCharsets.UTF_8)));
        }
        return (int) parseLong(key);
    }

    private static long parseLong(byte[] bytes) {
        long v = 0;
        for (byte b : bytes) {
            if (b < '0' || b > '9') {
                throw new IllegalStateException(
                        "unexpected output value " + new String(bytes, StandardCharsets.UTF_8));
            }
            v = v * 10 + (b - '0');
        }
        return v;
    }
}
