package io.github.flinkkafkakit.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The input every scenario reads: {@code records} records whose key is a 10-digit id (Zipf or
 * uniform over {@code keys} ids) and whose value is a one-digit integer, plus what a correct job
 * must produce from it (records and value sums per key).
 */
final class EndToEndInput {

    final String topic;
    final int records;
    final int keys;

    /** Records per key id. */
    final long[] counts;

    /** Sum of the values per key id. */
    final long[] sums;

    private EndToEndInput(String topic, int records, int keys, long[] counts, long[] sums) {
        this.topic = topic;
        this.records = records;
        this.keys = keys;
        this.counts = counts;
        this.sums = sums;
    }

    /** Key ids that occur in the input. */
    int distinctKeys() {
        int n = 0;
        for (long c : counts) {
            n += c > 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * What {@link #produce} writes to {@code topic} with these arguments, without writing it (for a
     * scenario run in its own JVM over an input another process wrote).
     */
    static EndToEndInput expected(String topic, int records, int keys, boolean zipf, long seed) {
        return expected(topic, keys, Keys.ids(records, keys, zipf, seed));
    }

    /** The input of records with these key ids (record {@code r} has value {@link #value}). */
    private static EndToEndInput expected(String topic, int keys, int[] ids) {
        int records = ids.length;
        long[] counts = new long[keys];
        long[] sums = new long[keys];
        for (int r = 0; r < records; r++) {
            counts[ids[r]]++;
            sums[ids[r]] += value(r);
        }
        return new EndToEndInput(topic, records, keys, counts, sums);
    }

    /** The value of record {@code r}: 1 to 9. */
    private static int value(int r) {
        return 1 + r % 9;
    }

    /** Writes the input to {@code topic} (already created) and returns what was written. */
    static EndToEndInput produce(
            String bootstrapServers, String topic, int records, int keys, boolean zipf, long seed) {
        int[] ids = Keys.ids(records, keys, zipf, seed);
        byte[][] pool = new byte[keys][];
        for (int i = 0; i < keys; i++) {
            pool[i] = Keys.key(i);
        }
        byte[][] values = new byte[10][];
        for (int v = 0; v < values.length; v++) {
            values[v] = Integer.toString(v).getBytes(StandardCharsets.US_ASCII);
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L << 20));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int r = 0; r < records; r++) {
                producer.send(new ProducerRecord<>(topic, pool[ids[r]], values[value(r)]));
            }
            producer.flush();
        }
        return expected(topic, keys, ids);
    }
}
