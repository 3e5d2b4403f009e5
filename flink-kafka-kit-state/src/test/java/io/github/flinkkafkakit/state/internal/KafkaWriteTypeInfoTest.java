package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaWriteTypeInfoTest {

    private final TypeSerializer<KafkaWrite> serializer =
            KafkaWriteTypeInfo.INSTANCE.createSerializer(new SerializerConfigImpl());

    @Test
    void shouldRoundTripStateChangesTombstonesAndDeadLetters() throws Exception {
        KafkaWrite change = KafkaWrite.of("state", 3, new byte[] {1, 2}, new byte[] {9});
        KafkaWrite tombstone = KafkaWrite.of("state", -1, new byte[] {7}, null);
        KafkaWrite dead = KafkaWrite.of("dlq", -1, null, new byte[] {4, 5, 6});
        dead.deadLetter = new DeadLetter();
        dead.deadLetter.key = new byte[] {1};
        dead.deadLetter.topic = "in";
        dead.deadLetter.partition = 2;
        dead.deadLetter.offset = 42;
        dead.deadLetter.timestamp = 1234;
        dead.deadLetter.stage = "DESERIALIZE";
        dead.deadLetter.exception = "java.lang.NumberFormatException";
        dead.deadLetter.message = "For input string: \"x\"";

        DataOutputSerializer out = new DataOutputSerializer(64);
        for (KafkaWrite write : new KafkaWrite[] {change, tombstone, dead}) {
            serializer.serialize(write, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        for (KafkaWrite expected : new KafkaWrite[] {change, tombstone, dead}) {
            assertThat(serializer.deserialize(in)).usingRecursiveComparison().isEqualTo(expected);
        }
        assertThat(in.available()).isZero();
        assertThat(serializer.copy(dead)).usingRecursiveComparison().isEqualTo(dead);
    }

    @Test
    void shouldRestoreACompatibleSerializerFromItsSnapshot() throws Exception {
        TypeSerializerSnapshot<KafkaWrite> snapshot = serializer.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<KafkaWrite> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(out.getCopyOfBuffer()),
                        getClass().getClassLoader());

        assertThat(restored.restoreSerializer()).isSameAs(serializer);
        assertThat(
                        serializer
                                .snapshotConfiguration()
                                .resolveSchemaCompatibility(restored)
                                .isCompatibleAsIs())
                .isTrue();
    }
}
