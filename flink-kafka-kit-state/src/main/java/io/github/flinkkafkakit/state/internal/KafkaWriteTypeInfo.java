package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.internal.OpaqueTypeInfo;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import java.io.IOException;

/**
 * The type of {@link KafkaWrite}, with a hand-written serializer: every state change and output
 * record crosses the network to the single changelog writer, and Flink's reflective POJO serializer
 * (field reflection, default instances per record) cost the writer thread about a third of its
 * time.
 */
@Internal
public final class KafkaWriteTypeInfo extends OpaqueTypeInfo<KafkaWrite> {

    private static final long serialVersionUID = 1L;

    public static final KafkaWriteTypeInfo INSTANCE = new KafkaWriteTypeInfo();

    @Override
    public Class<KafkaWrite> getTypeClass() {
        return KafkaWrite.class;
    }

    @Override
    public TypeSerializer<KafkaWrite> createSerializer(SerializerConfig config) {
        return Serializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "KafkaWrite";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof KafkaWriteTypeInfo;
    }

    @Override
    public int hashCode() {
        return KafkaWriteTypeInfo.class.hashCode();
    }

    /**
     * Topic, partition, key, value, headers, timestamp, then an optional dead letter. Byte arrays
     * are never changed after a {@link KafkaWrite} is built, so {@link #copy} shares them.
     */
    public static final class Serializer extends TypeSerializerSingleton<KafkaWrite> {

        private static final long serialVersionUID = 1L;

        public static final Serializer INSTANCE = new Serializer();

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public KafkaWrite createInstance() {
            return new KafkaWrite();
        }

        @Override
        public KafkaWrite copy(KafkaWrite from) {
            KafkaWrite to = KafkaWrite.of(from.topic, from.partition, from.key, from.value);
            to.headers = from.headers;
            to.timestamp = from.timestamp;
            if (from.deadLetter != null) {
                to.deadLetter = copy(from.deadLetter);
            }
            return to;
        }

        @Override
        public KafkaWrite copy(KafkaWrite from, KafkaWrite reuse) {
            return copy(from);
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(KafkaWrite write, DataOutputView out) throws IOException {
            StringValue.writeString(write.topic, out);
            out.writeInt(write.partition);
            writeBytes(write.key, out);
            writeBytes(write.value, out);
            writeBytes(write.headers, out);
            out.writeLong(write.timestamp);
            DeadLetter letter = write.deadLetter;
            out.writeBoolean(letter != null);
            if (letter != null) {
                writeBytes(letter.key, out);
                writeBytes(letter.value, out);
                writeBytes(letter.headers, out);
                StringValue.writeString(letter.topic, out);
                out.writeInt(letter.partition);
                out.writeLong(letter.offset);
                out.writeLong(letter.timestamp);
                StringValue.writeString(letter.stage, out);
                StringValue.writeString(letter.exception, out);
                StringValue.writeString(letter.message, out);
                StringValue.writeString(letter.stacktrace, out);
            }
        }

        @Override
        public KafkaWrite deserialize(DataInputView in) throws IOException {
            KafkaWrite write =
                    KafkaWrite.of(
                            StringValue.readString(in), in.readInt(), readBytes(in), readBytes(in));
            write.headers = readBytes(in);
            write.timestamp = in.readLong();
            if (in.readBoolean()) {
                DeadLetter letter = new DeadLetter();
                letter.key = readBytes(in);
                letter.value = readBytes(in);
                letter.headers = readBytes(in);
                letter.topic = StringValue.readString(in);
                letter.partition = in.readInt();
                letter.offset = in.readLong();
                letter.timestamp = in.readLong();
                letter.stage = StringValue.readString(in);
                letter.exception = StringValue.readString(in);
                letter.message = StringValue.readString(in);
                letter.stacktrace = StringValue.readString(in);
                write.deadLetter = letter;
            }
            return write;
        }

        @Override
        public KafkaWrite deserialize(KafkaWrite reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public TypeSerializerSnapshot<KafkaWrite> snapshotConfiguration() {
            return new Snapshot();
        }

        private static DeadLetter copy(DeadLetter from) {
            DeadLetter to = new DeadLetter();
            to.key = from.key;
            to.value = from.value;
            to.headers = from.headers;
            to.topic = from.topic;
            to.partition = from.partition;
            to.offset = from.offset;
            to.timestamp = from.timestamp;
            to.stage = from.stage;
            to.exception = from.exception;
            to.message = from.message;
            to.stacktrace = from.stacktrace;
            return to;
        }

        private static void writeBytes(byte[] bytes, DataOutputView out) throws IOException {
            if (bytes == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(bytes.length);
                out.write(bytes);
            }
        }

        private static byte[] readBytes(DataInputView in) throws IOException {
            int length = in.readInt();
            if (length < 0) {
                return null;
            }
            byte[] bytes = new byte[length];
            in.readFully(bytes);
            return bytes;
        }
    }

    /** Snapshot of the stateless {@link Serializer}. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<KafkaWrite> {
        public Snapshot() {
            super(() -> Serializer.INSTANCE);
        }
    }
}
