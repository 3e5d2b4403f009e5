package io.github.flinkkafkakit.core.serde;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

/**
 * A Kafka {@link Serde} of {@link Point} (two big-endian ints) that records, under the {@code
 * test.id} config, how it was configured and which topics it saw, so tests can check what the
 * adapter passed in. Also a recording {@code Long} serializer/deserializer for keys.
 */
public final class RecordingPointSerde implements Serde<Point> {

    public static final String TEST_ID = "test.id";

    private static final Map<String, Queue<String>> EVENTS = new ConcurrentHashMap<>();

    /** The distinct events recorded under {@code id}, e.g. {@code "configure isKey=false"}. */
    public static Set<String> events(String id) {
        return EVENTS.getOrDefault(id, new ConcurrentLinkedQueue<>()).stream()
                .collect(Collectors.toSet());
    }

    /** How many times {@code event} was recorded under {@code id}. */
    public static long count(String id, String event) {
        return EVENTS.getOrDefault(id, new ConcurrentLinkedQueue<>()).stream()
                .filter(event::equals)
                .count();
    }

    static void record(String id, String event) {
        if (id != null) {
            EVENTS.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>()).add(event);
        }
    }

    private String id;

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        id = (String) configs.get(TEST_ID);
        record(id, "configure isKey=" + isKey);
    }

    @Override
    public Serializer<Point> serializer() {
        return (topic, p) -> {
            record(id, "serialize topic=" + topic);
            return ByteBuffer.allocate(8).putInt(p.x()).putInt(p.y()).array();
        };
    }

    @Override
    public Deserializer<Point> deserializer() {
        return (topic, bytes) -> {
            record(id, "deserialize topic=" + topic);
            ByteBuffer b = ByteBuffer.wrap(bytes);
            Point p = new Point(b.getInt(), b.getInt());
            if (b.hasRemaining()) {
                throw new IllegalArgumentException("a Point is 8 bytes, not " + bytes.length);
            }
            return p;
        };
    }

    /** Kafka's LongSerializer, recording configure and topics. */
    public static final class Longs extends LongSerializer {
        private String id;

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            id = (String) configs.get(TEST_ID);
            record(id, "configure isKey=" + isKey);
        }

        @Override
        public byte[] serialize(String topic, Long data) {
            record(id, "serialize topic=" + topic);
            return super.serialize(topic, data);
        }
    }

    /** Kafka's LongDeserializer, recording configure and topics. */
    public static final class LongReader extends LongDeserializer {
        private String id;

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            id = (String) configs.get(TEST_ID);
            record(id, "configure isKey=" + isKey);
        }

        @Override
        public Long deserialize(String topic, byte[] data) {
            record(id, "deserialize topic=" + topic);
            return super.deserialize(topic, data);
        }
    }
}
