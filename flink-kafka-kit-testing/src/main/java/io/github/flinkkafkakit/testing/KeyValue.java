package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A key and a value, as produced to or read from a topic by {@link KafkaTestClient}.
 *
 * @param key record key, may be {@code null}
 * @param value record value, may be {@code null} (a tombstone)
 */
@PublicEvolving
public record KeyValue<K, V>(K key, V value) {

    public static <K, V> KeyValue<K, V> of(K key, V value) {
        return new KeyValue<>(key, value);
    }
}
