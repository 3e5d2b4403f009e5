package io.github.flinkkafkakit.core.serde;

import io.github.flinkkafkakit.core.internal.OpaqueTypeInfo;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/** Flink type information for Jackson {@link JsonNode}: serialized as JSON bytes, no Kryo. */
@PublicEvolving
public final class JsonNodeTypeInfo extends OpaqueTypeInfo<JsonNode> {

    private static final long serialVersionUID = 1L;

    @Override
    public Class<JsonNode> getTypeClass() {
        return JsonNode.class;
    }

    @Override
    public TypeSerializer<JsonNode> createSerializer(SerializerConfig config) {
        return JsonNodeSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "JsonNode";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof JsonNodeTypeInfo;
    }

    @Override
    public int hashCode() {
        return JsonNodeTypeInfo.class.hashCode();
    }

    /** Writes a tree as length-prefixed JSON bytes. */
    public static final class JsonNodeSerializer extends TypeSerializerSingleton<JsonNode> {
        private static final long serialVersionUID = 1L;
        static final JsonNodeSerializer INSTANCE = new JsonNodeSerializer();
        private static final ObjectMapper MAPPER = JsonSerde.newMapper();

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public JsonNode createInstance() {
            return MAPPER.nullNode();
        }

        @Override
        public JsonNode copy(JsonNode from) {
            return from == null ? null : from.deepCopy();
        }

        @Override
        public JsonNode copy(JsonNode from, JsonNode reuse) {
            return copy(from);
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(JsonNode record, DataOutputView target) throws IOException {
            byte[] bytes = MAPPER.writeValueAsBytes(record);
            target.writeInt(bytes.length);
            target.write(bytes);
        }

        @Override
        public JsonNode deserialize(DataInputView source) throws IOException {
            byte[] bytes = new byte[source.readInt()];
            source.readFully(bytes);
            return MAPPER.readTree(bytes);
        }

        @Override
        public JsonNode deserialize(JsonNode reuse, DataInputView source) throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            int length = source.readInt();
            target.writeInt(length);
            target.write(source, length);
        }

        @Override
        public TypeSerializerSnapshot<JsonNode> snapshotConfiguration() {
            return new Snapshot();
        }

        /** Serializer snapshot (the format has no parameters). */
        public static final class Snapshot extends SimpleTypeSerializerSnapshot<JsonNode> {
            public Snapshot() {
                super(() -> INSTANCE);
            }
        }
    }
}
