package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.serde.Serde;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * When the current scenario read its first input record. Start-up (job submission, consumer group
 * join, first fetch) is everything before it; the rate counts from it. Every scenario marks it in
 * its key deserializer, which runs in this JVM (Flink's local MiniCluster, Kafka Streams threads).
 */
final class FirstRecordClock {

    private static volatile long first;

    private FirstRecordClock() {}

    static void reset() {
        first = 0;
    }

    /** Records now as the first record's time unless one was recorded since {@link #reset()}. */
    static void mark() {
        if (first == 0) {
            first = System.nanoTime();
        }
    }

    /** The marked time, or {@code fallback} when no record was read. */
    static long firstOr(long fallback) {
        long t = first;
        return t == 0 ? fallback : t;
    }

    /** {@link Serdes#string()} that marks the first record it decodes. */
    static Serde<String> markingStringSerde() {
        return new MarkingStringSerde();
    }

    private static final class MarkingStringSerde implements Serde<String> {
        private static final long serialVersionUID = 1L;
        private final Serde<String> delegate = Serdes.string();

        @Override
        public byte[] serialize(String value) {
            return delegate.serialize(value);
        }

        @Override
        public String deserialize(byte[] bytes) {
            mark();
            return delegate.deserialize(bytes);
        }

        @Override
        public TypeInformation<String> typeInformation() {
            return delegate.typeInformation();
        }
    }
}
