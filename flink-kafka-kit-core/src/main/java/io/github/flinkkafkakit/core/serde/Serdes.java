package io.github.flinkkafkakit.core.serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The built-in {@link Serde}s: UTF-8 strings, raw bytes and numbers written as decimal text.
 *
 * <pre>{@code
 * KafkaOut.<Tuple2<String, Long>>builder()
 *         .setKey(t -> t.f0, Serdes.string())
 *         .setValue(t -> t.f1, Serdes.longAsText());
 * }</pre>
 */
@PublicEvolving
public final class Serdes {

    private Serdes() {}

    /** UTF-8 text. */
    public static Serde<String> string() {
        return StringSerde.INSTANCE;
    }

    /**
     * UTF-8 text, strictly: bytes that are not valid UTF-8 throw (and so follow the source's error
     * policy) instead of turning into replacement characters.
     */
    public static Serde<String> strictString() {
        return StrictStringSerde.INSTANCE;
    }

    /** The record bytes as they are. */
    public static Serde<byte[]> bytes() {
        return BytesSerde.INSTANCE;
    }

    /**
     * A {@code long} written as decimal text ({@code "42"}); reading text that is not a decimal
     * integer throws {@link NumberFormatException}.
     */
    public static Serde<Long> longAsText() {
        return LongTextSerde.INSTANCE;
    }

    private enum StringSerde implements Serde<String> {
        INSTANCE;

        @Override
        public byte[] serialize(String value) {
            return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
            return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
        }

        @Override
        public TypeInformation<String> typeInformation() {
            return Types.STRING;
        }
    }

    private enum StrictStringSerde implements Serde<String> {
        INSTANCE;

        @Override
        public byte[] serialize(String value) {
            return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
            if (bytes == null) {
                return null;
            }
            try {
                return StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("Not valid UTF-8 text: " + e, e);
            }
        }

        @Override
        public TypeInformation<String> typeInformation() {
            return Types.STRING;
        }
    }

    private enum BytesSerde implements Serde<byte[]> {
        INSTANCE;

        @Override
        public byte[] serialize(byte[] value) {
            return value;
        }

        @Override
        public byte[] deserialize(byte[] bytes) {
            return bytes;
        }

        @Override
        public TypeInformation<byte[]> typeInformation() {
            return PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        }
    }

    private enum LongTextSerde implements Serde<Long> {
        INSTANCE;

        @Override
        public byte[] serialize(Long value) {
            return value == null ? null : Long.toString(value).getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public Long deserialize(byte[] bytes) {
            return bytes == null
                    ? null
                    : Long.parseLong(new String(bytes, StandardCharsets.US_ASCII).trim());
        }

        @Override
        public TypeInformation<Long> typeInformation() {
            return Types.LONG;
        }
    }
}
