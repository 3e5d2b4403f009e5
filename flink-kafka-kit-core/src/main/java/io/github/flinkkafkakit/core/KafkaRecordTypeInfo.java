package io.github.flinkkafkakit.core;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Flink type information of {@link KafkaRecord}, composed of the key's and the value's type
 * information: no Kryo, and savepoints stay compatible as long as the key and value serializers do.
 *
 * <pre>{@code
 * TypeInformation<KafkaRecord<String, Long>> type =
 *         KafkaRecordTypeInfo.of(Types.STRING, Types.LONG);
 * stream.map(r -> r.withValue(Long.parseLong(r.value()))).returns(type);
 * }</pre>
 *
 * <p>{@link KafkaDeserializers#records} already produces it, and Flink's type extraction finds it
 * for {@code KafkaRecord<K, V>} wherever the generic parameters are known.
 *
 * @param <K> key type
 * @param <V> value type
 */
@PublicEvolving
public final class KafkaRecordTypeInfo<K, V> extends TypeInformation<KafkaRecord<K, V>> {

    private static final long serialVersionUID = 1L;

    private final TypeInformation<K> keyType;
    private final TypeInformation<V> valueType;

    public KafkaRecordTypeInfo(TypeInformation<K> keyType, TypeInformation<V> valueType) {
        this.keyType = Objects.requireNonNull(keyType, "keyType");
        this.valueType = Objects.requireNonNull(valueType, "valueType");
    }

    public static <K, V> KafkaRecordTypeInfo<K, V> of(
            TypeInformation<K> keyType, TypeInformation<V> valueType) {
        return new KafkaRecordTypeInfo<>(keyType, valueType);
    }

    public TypeInformation<K> keyType() {
        return keyType;
    }

    public TypeInformation<V> valueType() {
        return valueType;
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 7;
    }

    @Override
    public int getTotalFields() {
        return 7;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    @Override
    public Class<KafkaRecord<K, V>> getTypeClass() {
        return (Class) KafkaRecord.class;
    }

    @Override
    public Map<String, TypeInformation<?>> getGenericParameters() {
        Map<String, TypeInformation<?>> params = new HashMap<>();
        params.put("K", keyType);
        params.put("V", valueType);
        return params;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<KafkaRecord<K, V>> createSerializer(SerializerConfig config) {
        return new Serializer<>(
                keyType.createSerializer(config), valueType.createSerializer(config));
    }

    @Override
    public String toString() {
        return "KafkaRecord<" + keyType + ", " + valueType + ">";
    }

    @Override
    public boolean equals(Object obj) {
        if (!(obj instanceof KafkaRecordTypeInfo)) {
            return false;
        }
        KafkaRecordTypeInfo<?, ?> other = (KafkaRecordTypeInfo<?, ?>) obj;
        return other.canEqual(this)
                && keyType.equals(other.keyType)
                && valueType.equals(other.valueType);
    }

    @Override
    public int hashCode() {
        return 31 * keyType.hashCode() + valueType.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof KafkaRecordTypeInfo;
    }

    /**
     * Serializes a {@link KafkaRecord}: a flags byte (key / value / topic present), key and value
     * through their own serializers, topic, partition, offset, timestamp, then the headers as a
     * varint count and, per header, name (modified UTF-8) and varint length + 1 ({@code 0} = {@code
     * null}) followed by the bytes.
     */
    public static final class Serializer<K, V> extends TypeSerializer<KafkaRecord<K, V>> {
        private static final long serialVersionUID = 1L;

        private static final int HAS_KEY = 1;
        private static final int HAS_VALUE = 2;
        private static final int HAS_TOPIC = 4;

        private final TypeSerializer<K> keySerializer;
        private final TypeSerializer<V> valueSerializer;

        public Serializer(TypeSerializer<K> keySerializer, TypeSerializer<V> valueSerializer) {
            this.keySerializer = Objects.requireNonNull(keySerializer, "keySerializer");
            this.valueSerializer = Objects.requireNonNull(valueSerializer, "valueSerializer");
        }

        TypeSerializer<K> keySerializer() {
            return keySerializer;
        }

        TypeSerializer<V> valueSerializer() {
            return valueSerializer;
        }

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public TypeSerializer<KafkaRecord<K, V>> duplicate() {
            TypeSerializer<K> k = keySerializer.duplicate();
            TypeSerializer<V> v = valueSerializer.duplicate();
            return k == keySerializer && v == valueSerializer ? this : new Serializer<>(k, v);
        }

        @Override
        public KafkaRecord<K, V> createInstance() {
            return KafkaRecord.of(null, null);
        }

        @Override
        public KafkaRecord<K, V> copy(KafkaRecord<K, V> from) {
            if (from == null) {
                return null;
            }
            K key = from.key() == null ? null : keySerializer.copy(from.key());
            V value = from.value() == null ? null : valueSerializer.copy(from.value());
            List<Header> headers = new ArrayList<>(from.headers().size());
            for (Header h : from.headers()) {
                headers.add(
                        new RecordHeader(h.key(), h.value() == null ? null : h.value().clone()));
            }
            return new KafkaRecord<>(
                    key,
                    value,
                    headers,
                    from.topic(),
                    from.partition(),
                    from.offset(),
                    from.timestamp());
        }

        @Override
        public KafkaRecord<K, V> copy(KafkaRecord<K, V> from, KafkaRecord<K, V> reuse) {
            return copy(from);
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(KafkaRecord<K, V> record, DataOutputView target) throws IOException {
            int flags =
                    (record.key() != null ? HAS_KEY : 0)
                            | (record.value() != null ? HAS_VALUE : 0)
                            | (record.topic() != null ? HAS_TOPIC : 0);
            target.writeByte(flags);
            if (record.key() != null) {
                keySerializer.serialize(record.key(), target);
            }
            if (record.value() != null) {
                valueSerializer.serialize(record.value(), target);
            }
            if (record.topic() != null) {
                target.writeUTF(record.topic());
            }
            target.writeInt(record.partition());
            target.writeLong(record.offset());
            target.writeLong(record.timestamp());
            List<Header> headers = record.headers();
            writeVarInt(target, headers.size());
            for (Header h : headers) {
                target.writeUTF(h.key());
                byte[] v = h.value();
                writeVarInt(target, v == null ? 0 : v.length + 1);
                if (v != null) {
                    target.write(v);
                }
            }
        }

        @Override
        public KafkaRecord<K, V> deserialize(DataInputView source) throws IOException {
            int flags = source.readByte();
            K key = (flags & HAS_KEY) != 0 ? keySerializer.deserialize(source) : null;
            V value = (flags & HAS_VALUE) != 0 ? valueSerializer.deserialize(source) : null;
            String topic = (flags & HAS_TOPIC) != 0 ? source.readUTF() : null;
            int partition = source.readInt();
            long offset = source.readLong();
            long timestamp = source.readLong();
            int n = readVarInt(source);
            List<Header> headers = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String name = source.readUTF();
                int len = readVarInt(source);
                byte[] v = null;
                if (len > 0) {
                    v = new byte[len - 1];
                    source.readFully(v);
                }
                headers.add(new RecordHeader(name, v));
            }
            return new KafkaRecord<>(key, value, headers, topic, partition, offset, timestamp);
        }

        @Override
        public KafkaRecord<K, V> deserialize(KafkaRecord<K, V> reuse, DataInputView source)
                throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        private static void writeVarInt(DataOutputView out, int value) throws IOException {
            int v = value;
            while ((v & ~0x7F) != 0) {
                out.writeByte((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.writeByte(v);
        }

        private static int readVarInt(DataInputView in) throws IOException {
            int value = 0;
            for (int shift = 0; shift < 32; shift += 7) {
                int b = in.readUnsignedByte();
                value |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return value;
                }
            }
            throw new IOException("malformed varint in a serialized KafkaRecord");
        }

        @Override
        public boolean equals(Object obj) {
            if (!(obj instanceof Serializer)) {
                return false;
            }
            Serializer<?, ?> other = (Serializer<?, ?>) obj;
            return keySerializer.equals(other.keySerializer)
                    && valueSerializer.equals(other.valueSerializer);
        }

        @Override
        public int hashCode() {
            return 31 * keySerializer.hashCode() + valueSerializer.hashCode();
        }

        @Override
        public TypeSerializerSnapshot<KafkaRecord<K, V>> snapshotConfiguration() {
            return new Snapshot<>(this);
        }
    }

    /**
     * Snapshot of {@link Serializer}: the key and value serializers' snapshots, so a savepoint
     * restores (or migrates) exactly when they do.
     */
    public static final class Snapshot<K, V>
            extends CompositeTypeSerializerSnapshot<KafkaRecord<K, V>, Serializer<K, V>> {

        private static final int VERSION = 1;

        /** For reading a snapshot (Flink instantiates it reflectively). */
        public Snapshot() {
            super();
        }

        Snapshot(Serializer<K, V> serializer) {
            super(serializer);
        }

        @Override
        protected int getCurrentOuterSnapshotVersion() {
            return VERSION;
        }

        @Override
        protected TypeSerializer<?>[] getNestedSerializers(Serializer<K, V> outer) {
            return new TypeSerializer<?>[] {outer.keySerializer(), outer.valueSerializer()};
        }

        @SuppressWarnings("unchecked")
        @Override
        protected Serializer<K, V> createOuterSerializerWithNestedSerializers(
                TypeSerializer<?>[] nested) {
            return new Serializer<>((TypeSerializer<K>) nested[0], (TypeSerializer<V>) nested[1]);
        }
    }
}
