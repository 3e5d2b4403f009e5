package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * {@link ValueState} whose changes go to the changelog at each checkpoint (coalesced per key). With
 * String keys and no TTL, the values live in a {@link StringValueTable} on Flink's heap backend
 * (which Flink checkpoints through the operator's raw keyed state), or, on other backends, the
 * state is write-behind: the latest values wait in the changed-key table and go to Flink's state at
 * the barrier, together with the changelog write.
 */
@Internal
final class ChangelogValueState<K, T> extends ChangelogState implements ValueState<T> {

    private final ValueState<T> inner;
    private final TypeSerializer<T> serializer;
    private final ChangelogStates<K> operator;
    private Set<Object> dirty;
    private Set<Object> flushing;

    /**
     * String keys and no TTL: {@link #dirty} and {@link #flushing} are {@link
     * ChangedStringKeys#withValues()}, a write-behind cache. Updates between two checkpoints go to
     * it; at the barrier each changed key's latest value goes to Flink's state (before Flink's
     * snapshot, which is taken after the barrier) and to the changelog.
     */
    private final boolean writeBehind;

    /**
     * String keys, no TTL, heap backend: the values, instead of {@link #inner} (which stays empty).
     * Null in the other modes.
     */
    private final StringValueTable table;

    // During a flush: the value just written for the current key, so the function's onCheckpoint
    // reads it without a second state lookup.
    private boolean cached;
    private T cachedValue;

    private static final VarHandle BIG_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /** A decoded tombstone (restore). */
    private static final Object TOMBSTONE = new Object();

    /** Time to live in ms after the last update, or 0. */
    private final long ttlMillis;

    /** Processing time of the last update of each key (TTL only). */
    private final ValueState<Long> lastUpdate;

    /** With a TTL: whether a read restarts it too (else only writes do). */
    private final boolean touchOnRead;

    /** The changelog name suffix of a state with a TTL (its values carry their last update). */
    static final String TTL_SUFFIX = "@ttl";

    /** The record prefix of this state without a TTL if it has one, else with one. */
    private final byte[] otherVersionPrefix;

    ChangelogValueState(
            String name,
            String changelogName,
            ValueState<T> inner,
            TypeSerializer<T> serializer,
            ChangelogStates<K> operator,
            long ttlMillis,
            boolean touchOnRead,
            ValueState<Long> lastUpdate) {
        super(name, ttlMillis > 0 ? changelogName + TTL_SUFFIX : changelogName);
        this.otherVersionPrefix =
                ChangelogKeys.prefix(ttlMillis > 0 ? changelogName : changelogName + TTL_SUFFIX);
        this.touchOnRead = touchOnRead;
        this.inner = inner;
        this.serializer = serializer;
        this.operator = operator;
        this.ttlMillis = ttlMillis;
        this.lastUpdate = lastUpdate;
        boolean stringKeysNoTtl = ttlMillis <= 0 && operator.hasStringKeys();
        this.table =
                stringKeysNoTtl && operator.hasHeapBackend() ? operator.newTable(serializer) : null;
        this.writeBehind = stringKeysNoTtl && table == null;
        this.dirty = writeBehind ? ChangedStringKeys.withValues() : operator.newChangedKeys();
        this.flushing = writeBehind ? ChangedStringKeys.withValues() : operator.newChangedKeys();
    }

    @Override
    boolean isOtherVersion(byte[] recordKey) {
        return ChangelogKeys.hasPrefix(recordKey, otherVersionPrefix);
    }

    @Override
    @SuppressWarnings("unchecked")
    public T value() throws IOException {
        if (cached) {
            return cachedValue;
        }
        if (table != null) {
            return (T) table.get(operator.currentStringKey(), operator.currentKeyGroup());
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
        if (ttlMillis > 0) {
            if (isExpired(operator.now())) {
                return null;
            }
            T value = inner.value();
            if (touchOnRead && value != null) {
                touch(); // a read restarts the TTL: the new time goes to the changelog
                markDirty();
            }
            return value;
        }
        return inner.value();
    }

    @Override
    public void update(T value) throws IOException {
        endKey();
        if (table != null) {
            table.put(operator.currentStringKey(), operator.currentKeyGroup(), value);
            markDirty();
            return;
        }
        if (writeBehind) {
            updates++;
            ((ChangedStringKeys) dirty)
                    .put(
                            operator.currentStringKey(),
                            value == null ? ChangedStringKeys.CLEARED : value);
            return;
        }
        if (value == null) {
            clear();
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
        if (table != null) {
            table.put(operator.currentStringKey(), operator.currentKeyGroup(), null);
            markDirty();
            return;
        }
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
        if (table != null) {
            value = (T) table.get((String) key, operator.currentKeyGroup());
        } else if (writeBehind) {
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
        byte[] bytes = null;
        if (value != null) {
            bytes = operator.serializeValue(serializer, value);
            if (ttlMillis > 0) {
                bytes = withTimestamp(lastUpdate.value(), bytes);
            }
        }
        operator.writeChange(prefix, (K) key, null, bytes);
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
        if (ttlMillis > 0) { // the value's last update, then the value
            long lastUpdate = (long) BIG_ENDIAN_LONG.get(value, 0);
            return new Stamped<>(lastUpdate, deserialize(d.serializer, value, Long.BYTES, d.input));
        }
        return deserialize(d.serializer, value, 0, d.input);
    }

    /** A TTL state's value with the time of its last update (as its changelog record holds it). */
    private static final class Stamped<T> {
        final long lastUpdate;
        final T value;

        Stamped(long lastUpdate, T value) {
            this.lastUpdate = lastUpdate;
            this.value = value;
        }
    }

    /** {@code lastUpdate} (8 bytes, big-endian) followed by {@code value}. */
    private static byte[] withTimestamp(Long lastUpdate, byte[] value) {
        byte[] stamped = new byte[Long.BYTES + value.length];
        BIG_ENDIAN_LONG.set(stamped, 0, lastUpdate == null ? 0L : lastUpdate);
        System.arraycopy(value, 0, stamped, Long.BYTES, value.length);
        return stamped;
    }

    /**
     * Applies a {@link #decode decoded} changelog record to the {@link #table} (restore): the key
     * as UTF-8 bytes, in key group {@code keyGroup}.
     */
    void restoreToTable(byte[] utf8, int from, int length, int keyGroup, Object decoded) {
        table.restore(utf8, from, length, keyGroup, decoded == TOMBSTONE ? null : decoded);
    }

    /**
     * Restores a changelog record of a key whose UTF-8 bytes are {@code utf8[from..from+length)}
     * straight into a {@link #table} that {@link StringValueTable#holdsLongs() holds longs}, from
     * the value bytes as {@code LongSerializer} wrote them (8 bytes, big-endian): no {@code Long}.
     * False when that does not apply (another table, a tombstone); then the record is still to
     * restore.
     */
    boolean restoreLongToTable(byte[] utf8, int from, int length, int keyGroup, byte[] value) {
        if (value == null || value.length != Long.BYTES || !table.holdsLongs()) {
            return false;
        }
        table.restoreLong(utf8, from, length, keyGroup, (long) BIG_ENDIAN_LONG.get(value, 0));
        return true;
    }

    /** Applies a {@link #decode decoded} changelog record to the {@link #table} (restore). */
    void restoreToTable(String key, int keyGroup, Object decoded) {
        table.restore(key, keyGroup, decoded == TOMBSTONE ? null : decoded);
    }

    /** The values, when this state keeps them in a table instead of Flink's state; else null. */
    StringValueTable table() {
        return table;
    }

    TypeSerializer<T> serializer() {
        return serializer;
    }

    /**
     * Moves the current key's value from Flink's state to the {@link #table} (a Flink checkpoint
     * taken while the state was kept in Flink's state, e.g. by an earlier version).
     */
    void moveCurrentKeyToTable() throws IOException {
        T value = inner.value();
        if (value != null) {
            table.put(operator.currentStringKey(), operator.currentKeyGroup(), value);
            inner.clear();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    void restoreDecoded(Object decoded) throws IOException {
        if (decoded == TOMBSTONE) {
            inner.clear();
            if (lastUpdate != null) {
                lastUpdate.clear();
            }
        } else if (decoded instanceof Stamped) {
            // a TTL value lives for the TTL from its last update, as before the restart
            Stamped<T> stamped = (Stamped<T>) decoded;
            long expiry = stamped.lastUpdate + ttlMillis;
            if (operator.now() >= expiry) {
                inner.clear();
                lastUpdate.clear();
                markDirty(); // its tombstone goes with the next checkpoint
            } else {
                inner.update(stamped.value);
                boolean hadTimer = lastUpdate.value() != null;
                lastUpdate.update(stamped.lastUpdate);
                if (!hadTimer) {
                    operator.registerTtlTimer(expiry);
                }
            }
        } else {
            inner.update((T) decoded);
            touch(); // a value restored from a table lives for the TTL from now
        }
    }
}
