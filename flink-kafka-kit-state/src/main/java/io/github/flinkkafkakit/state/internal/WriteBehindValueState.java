package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.io.IOException;
import java.util.Set;

/**
 * The write-behind layer of a value state (String keys on a backend other than the heap, e.g.
 * RocksDB): the latest value of each key changed since the last checkpoint waits here, in a {@link
 * ChangedStringKeys#withValues()} table, and goes to the {@link ValueStore} and to the changelog at
 * the barrier — before Flink's snapshot, which is taken after it. Many updates of a key between two
 * checkpoints cost one store write.
 *
 * @param <K> the key type (String)
 * @param <T> the value type
 */
@Internal
final class WriteBehindValueState<K, T> extends LoggedValueState<K, T> {

    private ChangedStringKeys pending = ChangedStringKeys.withValues();
    private ChangedStringKeys flushing = ChangedStringKeys.withValues();

    WriteBehindValueState(
            String name,
            String changelogName,
            String otherVersionName,
            ValueStore<T> store,
            TypeSerializer<T> serializer,
            ChangeContext<K> context) {
        super(name, changelogName, otherVersionName, store, serializer, context);
    }

    @Override
    @SuppressWarnings("unchecked")
    T read() throws IOException {
        int entry = pending.find(context.currentStringKey());
        if (entry >= 0) {
            Object latest = pending.valueAt(entry);
            return latest == ChangedStringKeys.CLEARED ? null : (T) latest;
        }
        return store.get();
    }

    @Override
    void write(T value) {
        updates++;
        pending.put(context.currentStringKey(), value == null ? ChangedStringKeys.CLEARED : value);
    }

    @Override
    boolean isDirty() {
        return !pending.isEmpty();
    }

    @Override
    Set<Object> takeChangedKeys() {
        ChangedStringKeys taken = pending;
        pending = flushing;
        flushing = taken;
        return taken;
    }

    @Override
    @SuppressWarnings("unchecked")
    void flushCurrentKey(Object key) throws IOException {
        Object latest = flushing.valueAt(flushing.find((String) key));
        T value = latest == ChangedStringKeys.CLEARED ? null : (T) latest;
        store.put(value);
        log(key, value);
    }

    @Override
    void endFlush() {
        flushing.clear();
    }
}
