package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;

import java.io.IOException;
import java.util.Set;

/**
 * {@link ValueState} whose changes go to the changelog at each checkpoint (coalesced per key). With
 * String keys and no TTL it is write-behind: the latest values wait in the changed-key table and go
 * to Flink's state at the barrier, together with the changelog write.
 */
@Internal
final class ChangelogValueState<K, T> extends ChangelogState implements ValueState<T> {

    private final ValueState<T> inner;
    private final TypeSerializer<T> serializer;
    private final ChangelogOperator<K, ?, ?> operator;
    private Set<Object> dirty;
    private Set<Object> flushing;

    /**
     * String keys and no TTL: {@link #dirty} and {@link #flushing} are {@link
     * ChangedStringKeys#withValues()}, a write-behind cache. Updates between two checkpoints go to
     * it; at the barrier each changed key's latest value goes to Flink's state (before Flink's
     * snapshot, which is taken after the barrier) and to the changelog.
     */
    private final boolean writeBehind;

    // During a flush: the value just written for the current key, so the function's onCheckpoint
    // reads it without a second state lookup.
    private boolean cached;
    private T cachedValue;

    /** A decoded tombstone (restore). */
    private static final Object TOMBSTONE = new Object();

    /** Restore's fetch thread only. */
    private final DataInputDeserializer input = new DataInputDeserializer();

    private TypeSerializer<T> restoreSerializer;

    /** Time to live in ms after the last update, or 0. */
    private final long ttlMillis;

    /** Processing time of the last update of each key (TTL only). */
    private final ValueState<Long> lastUpdate;

    ChangelogValueState(
            String name,
            ValueState<T> inner,
            TypeSerializer<T> serializer,
            ChangelogOperator<K, ?, ?> operator,
            long ttlMillis,
            ValueState<Long> lastUpdate) {
        super(name);
        this.inner = inner;
        this.serializer = serializer;
        this.operator = operator;
        this.ttlMillis = ttlMillis;
        this.lastUpdate = lastUpdate;
        this.writeBehind = ttlMillis <= 0 && operator.hasStringKeys();
        this.dirty = writeBehind ? ChangedStringKeys.withValues() : operator.newChangedKeys();
        this.flushing = writeBehind ? ChangedStringKeys.withValues() : operator.newChangedKeys();
    }

    @Override
    @SuppressWarnings("unchecked")
    public T value() throws IOException {
        if (cached) {
            return cachedValue;
        }
        if (writeBehind) {
            ChangedStringKeys changed = (ChangedStringKeys) dirty;
            int entry = changed.find(operator.currentStringKey());
            if (entry >= 0) {
                Object latest = changed.valueAt(entry);
                return latest == ChangedStringKeys.CLEARED ? null : (T) latest;
            }
            return inner.value();
        }
        if (ttlMillis > 0 && isExpired(operator.now())) {
            return null;
        }
        return inner.value();
    }

    @Override
    public void update(T value) throws IOException {
        endKey();
        if (writeBehind) {
            updates++;
            ((ChangedStringKeys) dirty)
                    .put(
                            operator.currentStringKey(),
                            value == null ? ChangedStringKeys.CLEARED : value);
            return;
        }
        inner.update(value);
        markDirty();
        touch();
    }

    /** Restarts the TTL of the current key; one pending timer per live key. */
    private void touch() throws IOException {
        if (ttlMillis <= 0) {
            return;
        }
        long now = operator.now();
        boolean hadTimer = lastUpdate.value() != null;
        lastUpdate.update(now);
        if (!hadTimer) {
            operator.registerTtlTimer(now + ttlMillis);
        }
    }

    private boolean isExpired(long now) throws IOException {
        Long last = lastUpdate.value();
        return last != null && now - last >= ttlMillis;
    }

    /**
     * TTL timer of the current key: clears the value (a tombstone at the next checkpoint) when it
     * was not updated for the TTL, else re-arms the timer for its new expiry.
     */
    @Override
    void onTtlTimer(long now) throws IOException {
        Long last = lastUpdate.value();
        if (ttlMillis <= 0 || last == null) {
            return;
        }
        if (now - last >= ttlMillis) {
            lastUpdate.clear();
            inner.clear();
            markDirty();
        } else {
            operator.registerTtlTimer(last + ttlMillis);
        }
    }

    @Override
    public void clear() {
        endKey();
        if (writeBehind) {
            updates++;
            ((ChangedStringKeys) dirty).put(operator.currentStringKey(), ChangedStringKeys.CLEARED);
            return;
        }
        inner.clear();
        if (lastUpdate != null) {
            lastUpdate.clear();
        }
        markDirty();
    }

    private void markDirty() {
        updates++;
        dirty.add(operator.currentKeyCopy());
    }

    @Override
    boolean isDirty() {
        return !dirty.isEmpty();
    }

    @Override
    Set<Object> takeChangedKeys() {
        Set<Object> taken = dirty;
        dirty = flushing;
        flushing = taken;
        return taken;
    }

    @Override
    @SuppressWarnings("unchecked")
    void flushCurrentKey(Object key) throws Exception {
        T value;
        if (writeBehind) {
            ChangedStringKeys changed = (ChangedStringKeys) flushing;
            Object latest = changed.valueAt(changed.find((String) key));
            if (latest == ChangedStringKeys.CLEARED) {
                inner.clear();
                value = null;
            } else {
                value = (T) latest;
                inner.update(value);
            }
        } else {
            value = inner.value();
        }
        operator.writeChange(
                prefix,
                (K) key,
                null,
                value == null ? null : operator.serializeValue(serializer, value));
        writes++;
        if (ttlMillis <= 0) {
            cached = true;
            cachedValue = value;
        }
    }

    @Override
    void endKey() {
        cached = false;
        cachedValue = null;
    }

    @Override
    void endFlush() {
        flushing.clear();
    }

    @Override
    Object decode(byte[] recordKey, int mapKeyStart, byte[] value) throws IOException {
        if (value == null) {
            return TOMBSTONE;
        }
        if (restoreSerializer == null) {
            restoreSerializer = serializer.duplicate();
        }
        return deserialize(restoreSerializer, value, 0, input);
    }

    @Override
    @SuppressWarnings("unchecked")
    void restoreDecoded(Object decoded) throws IOException {
        if (decoded == TOMBSTONE) {
            inner.clear();
        } else {
            inner.update((T) decoded);
            touch(); // a restored value lives for the TTL from now
        }
    }
}
