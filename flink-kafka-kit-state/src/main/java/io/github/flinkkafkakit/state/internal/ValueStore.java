package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import java.io.IOException;

/**
 * The bottom layer of a Kafka-backed value state: where the current key's value lives — Flink's own
 * state ({@link FlinkValueStore}, any backend) or the kit's table ({@link TableValueStore}, String
 * keys on the heap backend). The layers above log its changes; it knows nothing of Kafka.
 *
 * @param <T> the value type
 */
@Internal
interface ValueStore<T> {

    /** The current key's value, or null. */
    T get() throws IOException;

    /** Sets the current key's value; null removes it. */
    void put(T value) throws IOException;
}
