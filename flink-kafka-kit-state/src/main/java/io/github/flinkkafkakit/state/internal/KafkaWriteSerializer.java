package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** {@link KafkaWrite} → producer record (dead letters get their context headers). */
@Internal
public final class KafkaWriteSerializer implements KafkaRecordSerializationSchema<KafkaWrite> {

    private static final long serialVersionUID = 1L;

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            KafkaWrite write, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = null;
        if (write.deadLetter != null) {
            headers = new RecordHeaders();
            write.deadLetter.writeHeaders(headers);
        }
        return new ProducerRecord<>(
                write.topic,
                write.partition < 0 ? null : write.partition,
                null,
                write.key,
                write.value,
                headers);
    }
}
