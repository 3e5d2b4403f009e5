package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;

/**
 * One record for the changelog pipeline's single transactional writer: a state change, a source
 * position, a dead letter or an output record, already serialized. A Flink POJO (no Kryo).
 */
@Internal
public class KafkaWrite {

    public String topic;

    /** Target partition, or -1 for the producer's partitioner. */
    public int partition = -1;

    public byte[] key;

    /** {@code null} is a tombstone. */
    public byte[] value;

    /** Record headers, encoded as {@code DeadLetter.encodeHeaders} does, or null. */
    public byte[] headers;

    /** Record timestamp (epoch millis), or -1 for the producer's. */
    public long timestamp = -1;

    /**
     * For a dead letter: the failed record and its context (written as {@code __fkk.errors.*}
     * headers), else null. A dead letter's key and value are the letter's, not {@link #key} and
     * {@link #value} (the writer may cut them to fit a record).
     */
    public DeadLetter deadLetter;

    public KafkaWrite() {}

    public static KafkaWrite of(String topic, int partition, byte[] key, byte[] value) {
        KafkaWrite w = new KafkaWrite();
        w.topic = topic;
        w.partition = partition;
        w.key = key;
        w.value = value;
        return w;
    }

    /** A dead letter to {@code topic} (the producer's partitioner picks the partition). */
    public static KafkaWrite deadLetter(String topic, DeadLetter letter) {
        KafkaWrite w = new KafkaWrite();
        w.topic = topic;
        w.deadLetter = letter;
        return w;
    }
}
