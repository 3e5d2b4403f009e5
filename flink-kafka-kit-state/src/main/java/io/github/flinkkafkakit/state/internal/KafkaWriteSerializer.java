package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * {@link KafkaWrite} → producer record. Dead letters get their context headers and are cut to the
 * producer's record limit: a failed record near the limit gains headers (the message may quote the
 * whole value) that would push it over and fail the writer, and with it the job the dead letter was
 * meant to keep running.
 */
@Internal
public final class KafkaWriteSerializer implements KafkaRecordSerializationSchema<KafkaWrite> {

    private static final long serialVersionUID = 1L;

    private final int maxRecordBytes;

    /**
     * @param maxRecordBytes the producer's {@code max.request.size}
     */
    public KafkaWriteSerializer(int maxRecordBytes) {
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            KafkaWrite write, KafkaSinkContext context, Long timestamp) {
        byte[] key = write.key;
        byte[] value = write.value;
        Headers headers = write.headers == null ? null : DeadLetter.decodeHeaders(write.headers);
        DeadLetter letter = write.deadLetter;
        if (letter != null) {
            letter.fitInto(maxRecordBytes); // may cut the letter's key and value
            key = letter.key;
            value = letter.value;
            headers = new RecordHeaders();
            letter.writeHeaders(headers);
        }
        return new ProducerRecord<>(
                write.topic,
                write.partition < 0 ? null : write.partition,
                write.timestamp < 0 ? null : write.timestamp,
                key,
                value,
                headers);
    }
}
