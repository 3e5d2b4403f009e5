package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.BooleanSerializer;
import org.apache.flink.api.common.typeutils.base.ByteSerializer;
import org.apache.flink.api.common.typeutils.base.CharSerializer;
import org.apache.flink.api.common.typeutils.base.EnumSerializer;
import org.apache.flink.api.common.typeutils.base.InstantSerializer;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.api.common.typeutils.base.LocalDateSerializer;
import org.apache.flink.api.common.typeutils.base.LocalDateTimeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.ShortSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.api.java.typeutils.runtime.RowSerializer;
import org.apache.flink.api.java.typeutils.runtime.TupleSerializerBase;

import java.lang.reflect.Field;
import java.util.List;

/**
 * Whether a serializer writes equal values as equal bytes, for structures that compare or compact
 * values by their bytes (the counting table, the Kafka changelog). Accepted: strings, integral
 * numbers, booleans, chars, byte arrays, enums, dates and instants, and tuples, rows and POJOs made
 * of those. Not accepted: floating point (two NaNs, -0.0), Kryo-serialized generic types and
 * anything else.
 */
@Internal
public final class DeterministicSerializers {

    private static final List<Class<?>> DETERMINISTIC =
            List.of(
                    StringSerializer.class,
                    LongSerializer.class,
                    IntSerializer.class,
                    ShortSerializer.class,
                    ByteSerializer.class,
                    BooleanSerializer.class,
                    CharSerializer.class,
                    EnumSerializer.class,
                    InstantSerializer.class,
                    LocalDateSerializer.class,
                    LocalDateTimeSerializer.class,
                    BytePrimitiveArraySerializer.class);

    private DeterministicSerializers() {}

    /** Why {@code serializer} may not be deterministic, or null. */
    public static String problem(TypeSerializer<?> serializer) {
        if (serializer == null) {
            return "the serializer of one of its fields cannot be inspected";
        }
        for (Class<?> known : DETERMINISTIC) {
            if (known.isInstance(serializer)) {
                return null;
            }
        }
        if (serializer instanceof TupleSerializerBase) {
            for (TypeSerializer<?> field :
                    ((TupleSerializerBase<?>) serializer).getFieldSerializers()) {
                String problem = problem(field);
                if (problem != null) {
                    return problem;
                }
            }
            return null;
        }
        if (serializer instanceof RowSerializer) {
            for (TypeSerializer<?> field : fieldSerializers(serializer)) {
                String problem = problem(field);
                if (problem != null) {
                    return problem;
                }
            }
            return null;
        }
        if (serializer instanceof PojoSerializer) {
            for (TypeSerializer<?> field : fieldSerializers(serializer)) {
                String problem = problem(field);
                if (problem != null) {
                    return problem;
                }
            }
            return null;
        }
        return "its serializer " + serializer.getClass().getSimpleName() + " is not known to be";
    }

    /** The field serializers of a row or POJO serializer. */
    private static TypeSerializer<?>[] fieldSerializers(TypeSerializer<?> serializer) {
        try {
            Field fields = serializer.getClass().getDeclaredField("fieldSerializers");
            fields.setAccessible(true);
            return (TypeSerializer<?>[]) fields.get(serializer);
        } catch (ReflectiveOperationException e) {
            return new TypeSerializer<?>[] {null};
        }
    }
}
