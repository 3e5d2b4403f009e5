package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.io.IOException;

/**
 * A value state whose changes go to the changelog, over a {@link ValueStore}: what its two change
 * layers share — the record a value becomes (its serialized value, a tombstone for none), the value
 * just written kept for the function's {@code onCheckpoint} read of the same key, and the restore
 * of a record into the store. The layers differ in what they remember between two checkpoints:
 * {@link TrackedValueState} the keys that changed (the store has their values), {@link
 * WriteBehindValueState} the latest values themselves (the store gets them at the barrier).
 *
 * @param <K> the key type
 * @param <T> the value type
 */
@Internal
abstract class LoggedValueState<K, T> extends ChangelogState implements ValueState<T> {

    /** A decoded tombstone (restore). */
    static final Object TOMBSTONE = new Object();

    final ValueStore<T> store;
    final TypeSerializer<T> serializer;
    final ChangeContext<K> context;

    /** The record prefix of this state's other version (with a TTL if it has none, or without). */
    private final byte[] otherVersionPrefix;

    /** Told of each record restored into the store (with its key current), or null. */
    private RestoreHook hook;

    // During a flush: the value just written for the current key, so the function's onCheckpoint
    // reads it without a second store lookup.
    private boolean cached;
    private T cachedValue;

    /** A layer above told of each value restored into the store, with its key current. */
    interface RestoreHook {
        void restored() throws IOException;

        /** A value a Flink checkpoint held without this layer, as the store holds it. */
        Object adopt(Object value);

        /** The serializer of such values. */
        TypeSerializer<?> adoptedSerializer();
    }

    LoggedValueState(
            String name,
            String changelogName,
            String otherVersionName,
            ValueStore<T> store,
            TypeSerializer<T> serializer,
            ChangeContext<K> context) {
        super(name, changelogName);
        this.otherVersionPrefix = ChangelogKeys.prefix(otherVersionName);
        this.store = store;
        this.serializer = serializer;
        this.context = context;
    }

    /** The current key's latest value (the store's, or one not in the store yet). */
    abstract T read() throws IOException;

    /** Sets the current key's value (null: cleared) and remembers the change. */
    abstract void write(T value) throws IOException;

    @Override
    public final T value() throws IOException {
        return cached ? cachedValue : read();
    }

    @Override
    public final void update(T value) throws IOException {
        endKey();
        write(value);
    }

    @Override
    public final void clear() {
        endKey();
        try {
            write(null);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot clear state '" + name + "'", e);
        }
    }

    /**
     * Writes {@code value} (null: a tombstone) of {@code key}, the current key, to the changelog.
     */
    @SuppressWarnings("unchecked")
    final void log(Object key, T value) throws IOException {
        context.write(
                prefix, (K) key, null, value == null ? null : context.serialize(serializer, value));
        writes++;
        cached = true;
        cachedValue = value;
    }

    @Override
    void endKey() {
        cached = false;
        cachedValue = null;
    }

    @Override
    boolean isOtherVersion(byte[] recordKey) {
        return ChangelogKeys.hasPrefix(recordKey, otherVersionPrefix);
    }

    ValueStore<T> store() {
        return store;
    }

    TypeSerializer<T> serializer() {
        return serializer;
    }

    RestoreHook hook() {
        return hook;
    }

    void setHook(RestoreHook hook) {
        this.hook = hook;
    }

    @Override
    Object newDecoding() {
        return new Decoding<>(serializer.duplicate());
    }

    @Override
    @SuppressWarnings("unchecked")
    Object decode(Object decoding, byte[] recordKey, int mapKeyStart, byte[] value)
            throws IOException {
        if (value == null) {
            return TOMBSTONE;
        }
        Decoding<T> d = (Decoding<T>) decoding;
        return deserialize(d.serializer, value, 0, d.input);
    }

    /** The serializer of the values {@link #adopt} takes. */
    TypeSerializer<?> adoptedSerializer() {
        return hook == null ? serializer : hook.adoptedSerializer();
    }

    /**
     * Puts a value of the current key that a Flink checkpoint held in a table into the store (a
     * restart from a savepoint of the job with this state kept otherwise, e.g. without a TTL).
     */
    @SuppressWarnings("unchecked")
    void adopt(Object value) throws IOException {
        store.put((T) (hook == null ? value : hook.adopt(value)));
        if (hook != null) {
            hook.restored();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    void restoreDecoded(Object decoded) throws IOException {
        store.put(decoded == TOMBSTONE ? null : (T) decoded);
        if (hook != null) {
            hook.restored();
        }
    }
}
