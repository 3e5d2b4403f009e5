package io.github.flinkkafkakit.core;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.common.header.Headers;

import java.io.Serializable;

/**
 * Adds Kafka headers for an element written by {@link KafkaOut}.
 *
 * <pre>{@code
 * .setHeaders((order, headers) -> headers.add("source", "checkout".getBytes(UTF_8)))
 * }</pre>
 */
@PublicEvolving
@FunctionalInterface
public interface HeaderWriter<T> extends Serializable {

    void write(T element, Headers headers);
}
