package io.github.flinkkafkakit.core.serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * JSON via Jackson, to a user class (record or POJO) or to a {@link JsonNode} tree.
 *
 * <pre>{@code
 * public record LogLine(String ts, String service, String level, Long latency_ms, String msg) {}
 *
 * KafkaIn.<LogLine>builder()
 *         .setDeserializer(KafkaDeserializers.values(JsonSerde.of(LogLine.class)))
 *         .setErrorPolicy(ErrorPolicy.deadLetter("logs-dlq"));
 * }</pre>
 *
 * <p>Reading is strict, so bad input becomes a clear error (and, with an error policy, a dead
 * letter) instead of a half-filled object: invalid UTF-8, malformed JSON, trailing garbage, {@code
 * null} for primitive fields, missing record components and numbers with a fraction or exponent for
 * integer fields (Jackson would truncate {@code 3.5} to {@code 3}) all fail. Unknown fields are
 * ignored, so producers can add fields.
 *
 * @param <T> the value type
 */
@PublicEvolving
public final class JsonSerde<T> implements Serde<T> {

    private static final long serialVersionUID = 1L;

    private final Class<T> type;
    private final TypeInformation<T> typeInformation;
    private transient ObjectMapper mapper;

    private JsonSerde(Class<T> type, TypeInformation<T> typeInformation) {
        this.type = type;
        this.typeInformation = typeInformation;
    }

    /** JSON to and from {@code type}; its {@link TypeInformation} is Flink's for the class. */
    public static <T> JsonSerde<T> of(Class<T> type) {
        return new JsonSerde<>(type, TypeInformation.of(type));
    }

    /** JSON to and from a {@link JsonNode} tree (with a Kryo-free type information). */
    public static JsonSerde<JsonNode> tree() {
        return new JsonSerde<>(JsonNode.class, new JsonNodeTypeInfo());
    }

    static ObjectMapper newMapper() {
        return JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                // Jackson's default turns 3.5 into 3 for an int field: silent data loss.
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
    }

    private ObjectMapper mapper() {
        if (mapper == null) {
            mapper = newMapper();
        }
        return mapper;
    }

    @Override
    public byte[] serialize(T value) {
        if (value == null) {
            return null;
        }
        try {
            return mapper().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "Cannot write " + type.getSimpleName() + " as JSON: " + e.getOriginalMessage(),
                    e);
        }
    }

    @Override
    public T deserialize(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            T value = mapper().readValue(bytes, type);
            if (value == null) {
                throw new IllegalArgumentException("JSON null is not a " + type.getSimpleName());
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Not a valid "
                            + type.getSimpleName()
                            + " JSON document: "
                            + (e instanceof JsonProcessingException
                                    ? ((JsonProcessingException) e).getOriginalMessage()
                                    : e.getMessage()),
                    e);
        }
    }

    @Override
    public TypeInformation<T> typeInformation() {
        return typeInformation;
    }
}
