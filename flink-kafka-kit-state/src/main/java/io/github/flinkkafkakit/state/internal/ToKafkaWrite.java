package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;

import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * An output element → the record a {@code KafkaOut} makes of it (key, value, headers, timestamp,
 * topic; its error policy applied, a dead letter as a record for the dead-letter topic), for the
 * changelog writer, which writes it with the checkpoint's state.
 */
@Internal
final class ToKafkaWrite<T> extends ProcessFunction<T, KafkaWrite> {

    private static final long serialVersionUID = 1L;

    private final KafkaRecordSerializationSchema<T> serializer;

    ToKafkaWrite(KafkaRecordSerializationSchema<T> serializer) {
        this.serializer = serializer;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        UserCodeClassLoader classLoader =
                SimpleUserCodeClassLoader.create(getRuntimeContext().getUserCodeClassLoader());
        serializer.open(
                new SerializationSchema.InitializationContext() {
                    @Override
                    public MetricGroup getMetricGroup() {
                        return metrics;
                    }

                    @Override
                    public UserCodeClassLoader getUserCodeClassLoader() {
                        return classLoader;
                    }
                },
                null);
    }

    @Override
    public void processElement(T element, Context context, Collector<KafkaWrite> out) {
        ProducerRecord<byte[], byte[]> record =
                serializer.serialize(element, null, context.timestamp());
        if (record == null) {
            return; // skipped by the error policy
        }
        KafkaWrite write =
                KafkaWrite.of(
                        record.topic(),
                        record.partition() == null ? -1 : record.partition(),
                        record.key(),
                        record.value());
        write.headers = DeadLetter.encodeHeaders(record.headers());
        write.timestamp = record.timestamp() == null ? -1 : record.timestamp();
        out.collect(write);
    }
}
