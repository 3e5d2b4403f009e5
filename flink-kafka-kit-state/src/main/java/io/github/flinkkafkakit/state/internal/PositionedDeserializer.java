package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;

/**
 * Adds each record's position to what the (error-policy guarded) deserializer emits: {@code (topic,
 * partition, offset, value or dead letter)}, so {@link PositionsOperator} can record how far the
 * input has been consumed.
 */
@Internal
public final class PositionedDeserializer<T>
        implements KafkaRecordDeserializationSchema<
                Tuple4<String, Integer, Long, Either<T, DeadLetter>>> {

    private static final long serialVersionUID = 1L;

    private final KafkaRecordDeserializationSchema<Either<T, DeadLetter>> inner;

    public PositionedDeserializer(KafkaRecordDeserializationSchema<Either<T, DeadLetter>> inner) {
        this.inner = inner;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        inner.open(context);
    }

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> out)
            throws IOException {
        inner.deserialize(
                record,
                new Collector<>() {
                    @Override
                    public void collect(Either<T, DeadLetter> value) {
                        out.collect(
                                Tuple4.of(
                                        record.topic(),
                                        record.partition(),
                                        record.offset(),
                                        value));
                    }

                    @Override
                    public void close() {}
                });
    }

    @Override
    public TypeInformation<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> getProducedType() {
        return new TupleTypeInfo<>(Types.STRING, Types.INT, Types.LONG, inner.getProducedType());
    }
}
