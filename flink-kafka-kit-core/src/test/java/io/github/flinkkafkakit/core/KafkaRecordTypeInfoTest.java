package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.JsonNodeTypeInfo;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import org.apache.kafka.common.header.internals.RecordHeader;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaRecordTypeInfoTest {

    private static final KafkaRecordTypeInfo<String, Long> TYPE =
            KafkaRecordTypeInfo.of(Types.STRING, Types.LONG);

    private static <K, V> KafkaRecord<K, V> roundTrip(
            TypeSerializer<KafkaRecord<K, V>> serializer, KafkaRecord<K, V> record)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(record, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        KafkaRecord<K, V> back = serializer.deserialize(in);
        assertThat(in.available()).isZero();

        DataOutputSerializer copied = new DataOutputSerializer(64);
        serializer.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertThat(copied.getCopyOfBuffer()).isEqualTo(out.getCopyOfBuffer());
        return back;
    }

    @Test
    void shouldRoundTripEveryFieldIncludingHeaders() throws IOException {
        KafkaRecord<String, Long> record =
                new KafkaRecord<>(
                        "k",
                        42L,
                        List.of(
                                new RecordHeader("trace", "abc".getBytes()),
                                new RecordHeader("empty", new byte[0]),
                                new RecordHeader("none", null),
                                new RecordHeader("trace", "dup".getBytes())),
                        "orders",
                        3,
                        1042L,
                        1_700_000_000_000L);
        TypeSerializer<KafkaRecord<String, Long>> serializer =
                TYPE.createSerializer(new SerializerConfigImpl());

        KafkaRecord<String, Long> back = roundTrip(serializer, record);

        assertThat(back).isEqualTo(record);
        assertThat(back.headers()).hasSize(4);
        assertThat(back.headerAsString("trace")).isEqualTo("dup");
        assertThat(back.header("empty")).isEmpty();
        assertThat(back.header("none")).isNull();
        assertThat(back.topic()).isEqualTo("orders");
        assertThat(back.partition()).isEqualTo(3);
        assertThat(back.offset()).isEqualTo(1042L);
        assertThat(back.timestamp()).isEqualTo(1_700_000_000_000L);
    }

    @Test
    void shouldRoundTripNullKeyValueAndTopic() throws IOException {
        TypeSerializer<KafkaRecord<String, Long>> serializer =
                TYPE.createSerializer(new SerializerConfigImpl());
        KafkaRecord<String, Long> tombstone = KafkaRecord.of(null, null);

        KafkaRecord<String, Long> back = roundTrip(serializer, tombstone);

        assertThat(back).isEqualTo(tombstone);
        assertThat(back.key()).isNull();
        assertThat(back.value()).isNull();
        assertThat(back.topic()).isNull();
        assertThat(back.offset()).isEqualTo(KafkaRecord.UNKNOWN);
        assertThat(back.headers()).isEmpty();
    }

    @Test
    void shouldCopyDeeplyWithMutableValues() throws IOException {
        KafkaRecordTypeInfo<String, com.fasterxml.jackson.databind.JsonNode> type =
                KafkaRecordTypeInfo.of(Types.STRING, new JsonNodeTypeInfo());
        var serializer = type.createSerializer(new SerializerConfigImpl());
        var json = new ObjectMapper().createObjectNode().put("a", 1);
        var record = KafkaRecord.of("k", (com.fasterxml.jackson.databind.JsonNode) json);

        var copy = serializer.copy(record.withHeader("h", "v"));
        json.put("a", 2);

        assertThat(copy.value().get("a").asInt()).isEqualTo(1);
        assertThat(copy.headerAsString("h")).isEqualTo("v");
        assertThat(roundTrip(serializer, record).value()).isEqualTo(json);
    }

    @Test
    void shouldRestoreFromItsSnapshotAsCompatible() throws IOException {
        TypeSerializer<KafkaRecord<String, Long>> serializer =
                TYPE.createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, serializer.snapshotConfiguration());

        TypeSerializerSnapshot<KafkaRecord<String, Long>> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(out.getCopyOfBuffer()),
                        getClass().getClassLoader());

        assertThat(restored).isInstanceOf(KafkaRecordTypeInfo.Snapshot.class);
        assertThat(restored.restoreSerializer()).isEqualTo(serializer);
        TypeSerializerSchemaCompatibility<KafkaRecord<String, Long>> compatibility =
                serializer.snapshotConfiguration().resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAsIs()).isTrue();

        TypeSerializer<KafkaRecord<String, String>> otherValue =
                KafkaRecordTypeInfo.of(Types.STRING, Types.STRING)
                        .createSerializer(new SerializerConfigImpl());
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeSerializerSchemaCompatibility<?> incompatible =
                otherValue
                        .snapshotConfiguration()
                        .resolveSchemaCompatibility((TypeSerializerSnapshot) restored);
        assertThat(incompatible.isIncompatible()).isTrue();
    }

    @Test
    void shouldBeFoundByTypeExtraction() {
        TypeInformation<KafkaRecord<String, Long>> extracted =
                TypeInformation.of(new TypeHint<KafkaRecord<String, Long>>() {});

        assertThat(extracted).isEqualTo(TYPE);
    }
}
