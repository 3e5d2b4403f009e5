package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serde;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaDeserializersTest {

    private static final KafkaRecordDeserializationSchema<Tuple2<String, Long>> DEPOSITS =
            KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText());

    private static <T> List<T> read(
            KafkaRecordDeserializationSchema<T> schema, String key, String value) throws Exception {
        List<T> out = new ArrayList<>();
        schema.deserialize(
                new ConsumerRecord<>("in", 0, 7L, bytes(key), bytes(value)),
                new ListCollector<>(out));
        return out;
    }

    /** A user serde that reads every value as {@code null}. */
    private static final class NullSerde implements Serde<String> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] serialize(String value) {
            return null;
        }

        @Override
        public String deserialize(byte[] bytes) {
            return null;
        }

        @Override
        public TypeInformation<String> typeInformation() {
            return Types.STRING;
        }
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReadKeyAndValueAndAMissingKeyAsEmpty() throws Exception {
        assertThat(read(DEPOSITS, "a", "5")).containsExactly(Tuple2.of("a", 5L));
        assertThat(read(DEPOSITS, null, "5")).containsExactly(Tuple2.of("", 5L));
    }

    /**
     * A tombstone (or a value the serde reads as null) fails here, where the source's error policy
     * catches it, not later in Flink's Tuple2 serializer, which would fail the job.
     */
    @Test
    void shouldRejectARecordWithoutValueAtDeserialization() {
        assertThatThrownBy(() -> read(DEPOSITS, "a", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tombstone")
                .hasMessageContaining("KafkaDeserializers.records");

        var nullReading = KafkaDeserializers.keyValues(Serdes.string(), new NullSerde());
        assertThatThrownBy(() -> read(nullReading, "a", "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "the value serde read the record as null, which a Tuple2 field cannot"
                                + " hold");
    }
}
