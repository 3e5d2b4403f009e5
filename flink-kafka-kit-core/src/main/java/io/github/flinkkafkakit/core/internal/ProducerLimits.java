package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;

import org.apache.kafka.clients.producer.ProducerConfig;

import java.util.Properties;

/** Limits a Kafka producer configuration sets, read the way the producer reads them. */
@Internal
public final class ProducerLimits {

    /** Kafka's default {@code max.request.size}. */
    private static final String DEFAULT_MAX_REQUEST_SIZE = "1048576";

    private ProducerLimits() {}

    /** The largest record (in bytes) a producer with {@code config} sends: its max.request.size. */
    public static int maxRequestSize(Properties config) {
        return Integer.parseInt(
                config.getProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, DEFAULT_MAX_REQUEST_SIZE)
                        .trim());
    }
}
