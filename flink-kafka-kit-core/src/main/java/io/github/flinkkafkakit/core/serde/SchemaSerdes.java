package io.github.flinkkafkakit.core.serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.UserCodeClassLoader;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * {@link Serde}s from Flink's {@link SerializationSchema} and {@link DeserializationSchema}, so the
 * formats Flink ships (Avro, CSV, Protobuf, JSON…) and schemas a team already wrote work with
 * {@code KafkaIn} and {@code KafkaOut}.
 *
 * <pre>{@code
 * Serde<String> text = SchemaSerdes.of(new SimpleStringSchema(), new SimpleStringSchema());
 * }</pre>
 *
 * <p>The type information is the deserialization schema's {@link
 * DeserializationSchema#getProducedType()}. Each schema is opened once, on first use in a task,
 * with an unregistered metric group and the thread's context class loader (the user-code class
 * loader inside a Flink task). {@code null} stays {@code null} in both directions without calling
 * the schema. Only the single-value {@link DeserializationSchema#deserialize(byte[])} is used, and
 * {@link DeserializationSchema#isEndOfStream} is not consulted.
 */
@PublicEvolving
public final class SchemaSerdes {

    private SchemaSerdes() {}

    /** A serde that writes with {@code serializer} and reads with {@code deserializer}. */
    public static <T> Serde<T> of(
            SerializationSchema<T> serializer, DeserializationSchema<T> deserializer) {
        checkNotNull(serializer, "serialization schema");
        checkNotNull(deserializer, "deserialization schema");
        return new Adapter<>(serializer, deserializer, null);
    }

    /**
     * A read-only serde (for {@code KafkaIn}); {@code serialize} throws {@link
     * UnsupportedOperationException}.
     */
    public static <T> Serde<T> ofDeserializer(DeserializationSchema<T> deserializer) {
        checkNotNull(deserializer, "deserialization schema");
        return new Adapter<>(null, deserializer, null);
    }

    /**
     * A write-only serde (for {@code KafkaOut}) with the given type information; {@code
     * deserialize} throws {@link UnsupportedOperationException}.
     */
    public static <T> Serde<T> ofSerializer(
            SerializationSchema<T> serializer, TypeInformation<T> type) {
        checkNotNull(serializer, "serialization schema");
        checkNotNull(type, "type information");
        return new Adapter<>(serializer, null, type);
    }

    private static void checkNotNull(Object o, String what) {
        if (o == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
    }

    private static final class Adapter<T> implements Serde<T> {
        private static final long serialVersionUID = 1L;

        private final SerializationSchema<T> serializer;
        private final DeserializationSchema<T> deserializer;
        private final TypeInformation<T> type;

        private transient boolean serializerOpen;
        private transient boolean deserializerOpen;

        Adapter(
                SerializationSchema<T> serializer,
                DeserializationSchema<T> deserializer,
                TypeInformation<T> type) {
            this.serializer = serializer;
            this.deserializer = deserializer;
            this.type = type;
        }

        @Override
        public byte[] serialize(T value) {
            if (value == null) {
                return null;
            }
            if (serializer == null) {
                throw new UnsupportedOperationException(
                        "this serde only reads (SchemaSerdes.ofDeserializer); it cannot write "
                                + typeInformation());
            }
            if (!serializerOpen) {
                try {
                    serializer.open(new Context());
                } catch (Exception e) {
                    throw new IllegalStateException(
                            "Cannot open serialization schema " + serializer + ": " + e, e);
                }
                serializerOpen = true;
            }
            return serializer.serialize(value);
        }

        @Override
        public T deserialize(byte[] bytes) {
            if (bytes == null) {
                return null;
            }
            if (deserializer == null) {
                throw new UnsupportedOperationException(
                        "this serde only writes (SchemaSerdes.ofSerializer); it cannot read "
                                + type);
            }
            if (!deserializerOpen) {
                try {
                    deserializer.open(new Context());
                } catch (Exception e) {
                    throw new IllegalStateException(
                            "Cannot open deserialization schema " + deserializer + ": " + e, e);
                }
                deserializerOpen = true;
            }
            try {
                return deserializer.deserialize(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "Cannot read " + typeInformation() + ": " + e.getMessage(), e);
            }
        }

        @Override
        public TypeInformation<T> typeInformation() {
            return type != null ? type : deserializer.getProducedType();
        }

        @Override
        public String toString() {
            return "SchemaSerdes{" + typeInformation() + "}";
        }
    }

    /** What a schema's {@code open} gets outside an operator: no metrics, the context loader. */
    private static final class Context
            implements SerializationSchema.InitializationContext,
                    DeserializationSchema.InitializationContext {

        @Override
        public MetricGroup getMetricGroup() {
            return new UnregisteredMetricsGroup();
        }

        @Override
        public UserCodeClassLoader getUserCodeClassLoader() {
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            ClassLoader loader = context != null ? context : SchemaSerdes.class.getClassLoader();
            return new UserCodeClassLoader() {
                @Override
                public ClassLoader asClassLoader() {
                    return loader;
                }

                @Override
                public void registerReleaseHookIfAbsent(String name, Runnable hook) {}
            };
        }
    }
}
