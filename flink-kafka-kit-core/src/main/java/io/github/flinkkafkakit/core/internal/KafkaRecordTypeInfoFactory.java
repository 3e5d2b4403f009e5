package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.KafkaRecord;
import io.github.flinkkafkakit.core.KafkaRecordTypeInfo;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

import java.lang.reflect.Type;
import java.util.Map;

/**
 * Lets Flink's type extraction build a {@link KafkaRecordTypeInfo} for {@code KafkaRecord<K, V>}
 * (registered with {@code @TypeInfo} on {@link KafkaRecord}). Unknown parameters fall back to
 * Flink's generic type, which fails fast when generic types are disabled.
 */
@Internal
public final class KafkaRecordTypeInfoFactory extends TypeInfoFactory<KafkaRecord<?, ?>> {

    @SuppressWarnings({"unchecked", "rawtypes"})
    @Override
    public TypeInformation<KafkaRecord<?, ?>> createTypeInfo(
            Type t, Map<String, TypeInformation<?>> genericParameters) {
        TypeInformation<?> key = genericParameters.getOrDefault("K", Types.GENERIC(Object.class));
        TypeInformation<?> value = genericParameters.getOrDefault("V", Types.GENERIC(Object.class));
        return (TypeInformation) KafkaRecordTypeInfo.of(key, value);
    }
}
