package io.github.flinkkafkakit.core.serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.function.SerializableSupplier;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link Serde}s from Kafka's own {@link Serializer}s, {@link Deserializer}s and {@link
 * org.apache.kafka.common.serialization.Serde}s, so the (de)serializers a team already has (schema
 * registry clients, in-house formats) plug into {@code KafkaIn} and {@code KafkaOut}.
 *
 * <pre>{@code
 * Serde<Long> ids = KafkaSerdes.of(
 *         org.apache.kafka.common.serialization.Serdes.LongSerde::new,
 *         Map.of(), true, Types.LONG);
 * }</pre>
 *
 * <p>Kafka (de)serializers are not {@link Serializable}, so the adapter holds a serializable
 * factory and the configs: on first use in each task it creates the Kafka object and calls {@code
 * configure(configs, isKey)}. The caller names the Flink {@link TypeInformation}, so values never
 * fall back to Kryo. The source and sink pass the record's topic ({@link Serde#serialize(String,
 * Object)}); the topic-less methods pass {@code null} as the topic. {@code null} stays {@code null}
 * in both directions without calling the Kafka object.
 */
@PublicEvolving
public final class KafkaSerdes {

    private KafkaSerdes() {}

    /** A value serde from a Kafka serde, without configs. */
    public static <T> Serde<T> of(
            SerializableSupplier<? extends org.apache.kafka.common.serialization.Serde<T>> serde,
            TypeInformation<T> type) {
        return of(serde, Map.of(), false, type);
    }

    /** A value serde from a Kafka serde, without configs; the type information is Flink's. */
    public static <T> Serde<T> of(
            SerializableSupplier<? extends org.apache.kafka.common.serialization.Serde<T>> serde,
            Class<T> type) {
        return of(serde, Map.of(), false, TypeInformation.of(type));
    }

    /**
     * A serde from a Kafka serde, configured with {@code configs} as a key ({@code isKey}) or value
     * serde. The config values must be serializable (strings, numbers, booleans…).
     */
    public static <T> Serde<T> of(
            SerializableSupplier<? extends org.apache.kafka.common.serialization.Serde<T>> serde,
            Map<String, ?> configs,
            boolean isKey,
            TypeInformation<T> type) {
        checkNotNull(serde, "Kafka serde factory");
        return new Adapter<>(serde, null, null, configs, isKey, type);
    }

    /** A serde from a Kafka serializer and deserializer pair, each configured the same way. */
    public static <T> Serde<T> of(
            SerializableSupplier<? extends Serializer<T>> serializer,
            SerializableSupplier<? extends Deserializer<T>> deserializer,
            Map<String, ?> configs,
            boolean isKey,
            TypeInformation<T> type) {
        checkNotNull(serializer, "Kafka serializer factory");
        checkNotNull(deserializer, "Kafka deserializer factory");
        return new Adapter<>(null, serializer, deserializer, configs, isKey, type);
    }

    /**
     * A write-only serde (for {@code KafkaOut}) from a Kafka serializer; {@code deserialize} throws
     * {@link UnsupportedOperationException}.
     */
    public static <T> Serde<T> ofSerializer(
            SerializableSupplier<? extends Serializer<T>> serializer,
            Map<String, ?> configs,
            boolean isKey,
            TypeInformation<T> type) {
        checkNotNull(serializer, "Kafka serializer factory");
        return new Adapter<>(null, serializer, null, configs, isKey, type);
    }

    /**
     * A read-only serde (for {@code KafkaIn}) from a Kafka deserializer; {@code serialize} throws
     * {@link UnsupportedOperationException}.
     */
    public static <T> Serde<T> ofDeserializer(
            SerializableSupplier<? extends Deserializer<T>> deserializer,
            Map<String, ?> configs,
            boolean isKey,
            TypeInformation<T> type) {
        checkNotNull(deserializer, "Kafka deserializer factory");
        return new Adapter<>(null, null, deserializer, configs, isKey, type);
    }

    private static void checkNotNull(Object o, String what) {
        if (o == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
    }

    /** Creates and configures the Kafka objects lazily, once per deserialized copy. */
    private static final class Adapter<T> implements Serde<T> {
        private static final long serialVersionUID = 1L;

        private final SerializableSupplier<? extends org.apache.kafka.common.serialization.Serde<T>>
                serdeFactory;
        private final SerializableSupplier<? extends Serializer<T>> serializerFactory;
        private final SerializableSupplier<? extends Deserializer<T>> deserializerFactory;
        private final HashMap<String, Object> configs;
        private final boolean isKey;
        private final TypeInformation<T> type;

        private transient Serializer<T> serializer;
        private transient Deserializer<T> deserializer;

        Adapter(
                SerializableSupplier<? extends org.apache.kafka.common.serialization.Serde<T>>
                        serdeFactory,
                SerializableSupplier<? extends Serializer<T>> serializerFactory,
                SerializableSupplier<? extends Deserializer<T>> deserializerFactory,
                Map<String, ?> configs,
                boolean isKey,
                TypeInformation<T> type) {
            checkNotNull(type, "type information");
            checkNotNull(configs, "configs (use Map.of() for none)");
            this.configs = new HashMap<>();
            configs.forEach(
                    (k, v) -> {
                        if (v != null && !(v instanceof Serializable)) {
                            throw new IllegalArgumentException(
                                    "config '"
                                            + k
                                            + "' is a "
                                            + v.getClass().getName()
                                            + ", which is not Serializable: the serde travels to"
                                            + " the task managers; pass it as a string or class"
                                            + " name");
                        }
                        this.configs.put(k, v);
                    });
            this.serdeFactory = serdeFactory;
            this.serializerFactory = serializerFactory;
            this.deserializerFactory = deserializerFactory;
            this.isKey = isKey;
            this.type = type;
        }

        private void init() {
            if (serdeFactory != null) {
                org.apache.kafka.common.serialization.Serde<T> serde = serdeFactory.get();
                serde.configure(new HashMap<>(configs), isKey);
                serializer = serde.serializer();
                deserializer = serde.deserializer();
            }
        }

        private Serializer<T> serializer() {
            if (serializer == null) {
                if (serdeFactory != null) {
                    init();
                } else if (serializerFactory != null) {
                    Serializer<T> s = serializerFactory.get();
                    s.configure(new HashMap<>(configs), isKey);
                    serializer = s;
                } else {
                    throw new UnsupportedOperationException(
                            "this serde only reads (KafkaSerdes.ofDeserializer); it cannot write "
                                    + type);
                }
            }
            return serializer;
        }

        private Deserializer<T> deserializer() {
            if (deserializer == null) {
                if (serdeFactory != null) {
                    init();
                } else if (deserializerFactory != null) {
                    Deserializer<T> d = deserializerFactory.get();
                    d.configure(new HashMap<>(configs), isKey);
                    deserializer = d;
                } else {
                    throw new UnsupportedOperationException(
                            "this serde only writes (KafkaSerdes.ofSerializer); it cannot read "
                                    + type);
                }
            }
            return deserializer;
        }

        @Override
        public byte[] serialize(T value) {
            return serialize(null, value);
        }

        @Override
        public byte[] serialize(String topic, T value) {
            return value == null ? null : serializer().serialize(topic, value);
        }

        @Override
        public T deserialize(byte[] bytes) {
            return deserialize(null, bytes);
        }

        @Override
        public T deserialize(String topic, byte[] bytes) {
            return bytes == null ? null : deserializer().deserialize(topic, bytes);
        }

        @Override
        public TypeInformation<T> typeInformation() {
            return type;
        }

        @Override
        public String toString() {
            return "KafkaSerdes{" + type + (isKey ? ", key" : ", value") + "}";
        }
    }
}
