package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.Set;

/**
 * One changelog-backed state: tracks which keys changed since the last checkpoint, writes their
 * latest value (or a tombstone) at the barrier, and applies changelog records on restore.
 */
@Internal
abstract class ChangelogState {

    /** The state's name as declared (and in Flink's state backend). */
    final String name;

    /** Its name in the changelog: scoped by the operator's uid. */
    final String changelogName;

    final byte[] prefix;
    long updates;
    long writes;

    ChangelogState(String name, String changelogName) {
        this.name = name;
        this.changelogName = changelogName;
        this.prefix = ChangelogKeys.prefix(changelogName);
    }

    /**
     * Whether a changelog record of another version of this state (with or without a TTL, which
     * changes its record format) is in {@code recordKey}: a restore refuses to mix them.
     */
    boolean isOtherVersion(byte[] recordKey) {
        return false;
    }

    /**
     * Starts a flush: hands over the keys changed since the last call (changes made after it, e.g.
     * in {@code onCheckpoint}, are handed over by the next call, which the operator makes in the
     * same flush).
     */
    abstract Set<Object> takeChangedKeys();

    /**
     * Writes the latest value (or tombstone) of the operator's current key, one of the keys {@link
     * #takeChangedKeys()} handed over.
     */
    abstract void flushCurrentKey(Object key) throws Exception;

    /** The flush of the current key is over (drops what {@link #flushCurrentKey} cached). */
    void endKey() {}

    /** The flush is over. */
    abstract void endFlush();

    /**
     * What one restore fetch thread decodes this state's records with (serializer copies of its
     * own), for {@link #decode}.
     */
    abstract Object newDecoding();

    /**
     * Decodes one changelog record of this state on a restore fetch thread, with that thread's
     * {@link #newDecoding decoding}; the result goes to {@link #restoreDecoded}.
     */
    abstract Object decode(Object decoding, byte[] recordKey, int mapKeyStart, byte[] value)
            throws Exception;

    /** Applies a {@link #decode decoded} changelog record for the operator's current key. */
    abstract void restoreDecoded(Object decoded) throws Exception;

    /** A TTL timer of the operator's current key fired (no-op without TTL). */
    void onTtlTimer(long now) throws Exception {}

    /** Whether any key changed since the last flush. */
    abstract boolean isDirty();

    /** A serializer copy and an input to decode with (one restore fetch thread's). */
    static final class Decoding<T> {
        final TypeSerializer<T> serializer;
        final DataInputDeserializer input = new DataInputDeserializer();

        Decoding(TypeSerializer<T> serializer) {
            this.serializer = serializer;
        }
    }

    static <T> byte[] serialize(TypeSerializer<T> serializer, T value, DataOutputSerializer buffer)
            throws IOException {
        buffer.clear();
        serializer.serialize(value, buffer);
        return buffer.getCopyOfBuffer();
    }

    static <T> T deserialize(
            TypeSerializer<T> serializer, byte[] bytes, int from, DataInputDeserializer buffer)
            throws IOException {
        buffer.setBuffer(bytes, from, bytes.length - from);
        return serializer.deserialize(buffer);
    }
}
