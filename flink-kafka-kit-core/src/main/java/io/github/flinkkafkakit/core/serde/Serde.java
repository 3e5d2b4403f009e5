package io.github.flinkkafkakit.core.serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.io.Serializable;

/**
 * Turns values of one type into Kafka record bytes and back, and names the Flink {@link
 * TypeInformation} of the type so pipelines never fall back to Kryo.
 *
 * <pre>{@code
 * Serde<String> keys = Serdes.string();
 * byte[] bytes = keys.serialize("user-42");
 * }</pre>
 *
 * @param <T> the value type
 */
@PublicEvolving
public interface Serde<T> extends Serializable {

    /** Bytes for {@code value}; {@code null} stays {@code null}. */
    byte[] serialize(T value);

    /** The value of {@code bytes}; {@code null} stays {@code null}. */
    T deserialize(byte[] bytes);

    /**
     * Bytes for {@code value} written to {@code topic}. {@link
     * io.github.flinkkafkakit.core.KafkaOut} calls this one, so serdes that need the topic (as
     * Kafka serializers backed by a schema registry do, for the subject) get it; by default it
     * ignores the topic and calls {@link #serialize(Object)}.
     */
    default byte[] serialize(String topic, T value) {
        return serialize(value);
    }

    /**
     * The value of {@code bytes} read from {@code topic}. {@link
     * io.github.flinkkafkakit.core.KafkaDeserializers} call this one; by default it ignores the
     * topic and calls {@link #deserialize(byte[])}.
     */
    default T deserialize(String topic, byte[] bytes) {
        return deserialize(bytes);
    }

    /** Flink type information of {@code T}. */
    TypeInformation<T> typeInformation();
}
