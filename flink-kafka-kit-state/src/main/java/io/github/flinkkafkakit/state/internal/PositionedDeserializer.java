package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.internal.OpaqueTypeInfo;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.api.java.typeutils.runtime.TupleSerializer;
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

    /**
     * The watermarks of a positioned source: {@code strategy} for its values (none when null), per
     * partition in the source.
     */
    public static <T>
            WatermarkStrategy<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> watermarks(
                    WatermarkStrategy<T> strategy) {
        return strategy == null
                ? WatermarkStrategy.noWatermarks()
                : new PositionedWatermarks<>(strategy);
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
        return new PositionedType<>(
                new TupleTypeInfo<>(Types.STRING, Types.INT, Types.LONG, inner.getProducedType()));
    }

    /**
     * The tuple type, with a serializer whose {@code copy} hands the tuple over as it is. Flink
     * copies every record between chained operators (without object reuse), and the positioned
     * tuple goes only from this deserializer, which never touches it again, to the chained {@link
     * PositionsOperator}, which only reads it: the deep copy (a reflective tuple instantiation, an
     * {@code Either} and the value tuple) cost the source thread a seventh of its time. Over the
     * network (chaining disabled) it is serialized as the plain tuple.
     */
    static final class PositionedType<X extends Tuple> extends OpaqueTypeInfo<X> {

        private static final long serialVersionUID = 1L;

        private final TupleTypeInfo<X> tuple;

        PositionedType(TupleTypeInfo<X> tuple) {
            this.tuple = tuple;
        }

        @Override
        public Class<X> getTypeClass() {
            return tuple.getTypeClass();
        }

        @Override
        public TypeSerializer<X> createSerializer(SerializerConfig config) {
            TypeSerializer<?>[] fields = new TypeSerializer<?>[tuple.getArity()];
            for (int i = 0; i < fields.length; i++) {
                fields[i] = tuple.getTypeAt(i).createSerializer(config);
            }
            return new HandOverSerializer<>(tuple.getTypeClass(), fields);
        }

        @Override
        public String toString() {
            return "Positioned" + tuple;
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof PositionedType && tuple.equals(((PositionedType<?>) obj).tuple);
        }

        @Override
        public int hashCode() {
            return 31 * PositionedType.class.hashCode() + tuple.hashCode();
        }
    }

    /** A tuple serializer whose copy is the tuple itself (see {@link PositionedType}). */
    static final class HandOverSerializer<X extends Tuple> extends TupleSerializer<X> {

        private static final long serialVersionUID = 1L;

        HandOverSerializer(Class<X> tupleClass, TypeSerializer<?>[] fields) {
            super(tupleClass, fields);
        }

        @Override
        public X copy(X from) {
            return from;
        }

        @Override
        public X copy(X from, X reuse) {
            return from;
        }

        @Override
        public TupleSerializer<X> duplicate() {
            return new HandOverSerializer<>(
                    getTupleClass(), super.duplicate().getFieldSerializers());
        }
    }
}
