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

    /** Flink type information of {@code T}. */
    TypeInformation<T> typeInformation();
}
