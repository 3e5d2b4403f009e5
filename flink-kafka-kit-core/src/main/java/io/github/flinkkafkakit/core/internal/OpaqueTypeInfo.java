package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * Type information for a type Flink treats as one opaque value (no fields to key or project by),
 * with a hand-written serializer: subclasses give the class, the serializer, {@code toString},
 * {@code equals} and {@code hashCode}.
 */
@Internal
public abstract class OpaqueTypeInfo<T> extends TypeInformation<T> {

    private static final long serialVersionUID = 1L;

    @Override
    public final boolean isBasicType() {
        return false;
    }

    @Override
    public final boolean isTupleType() {
        return false;
    }

    @Override
    public final int getArity() {
        return 1;
    }

    @Override
    public final int getTotalFields() {
        return 1;
    }

    @Override
    public final boolean isKeyType() {
        return false;
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj != null && obj.getClass() == getClass();
    }
}
