package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.io.IOException;
import java.util.Set;

/**
 * The change-tracking layer of a value state: remembers which keys changed since the last
 * checkpoint and, at the barrier, writes each one's value from the {@link ValueStore} (coalesced:
 * one record per key however often it changed).
 *
 * @param <K> the key type
 * @param <T> the value type
 */
@Internal
final class TrackedValueState<K, T> extends LoggedValueState<K, T> {

    private Set<Object> dirty;
    private Set<Object> flushing;

    TrackedValueState(
            String name,
            String changelogName,
            String otherVersionName,
            ValueStore<T> store,
            TypeSerializer<T> serializer,
            ChangeContext<K> context) {
        super(name, changelogName, otherVersionName, store, serializer, context);
        this.dirty = context.newChangedKeys();
        this.flushing = context.newChangedKeys();
    }

    @Override
    T read() throws IOException {
        return store.get();
    }

    @Override
    void write(T value) throws IOException {
        store.put(value);
        updates++;
        dirty.add(context.currentKeyCopy());
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
    void flushCurrentKey(Object key) throws IOException {
        log(key, store.get());
    }

    @Override
    void endFlush() {
        flushing.clear();
    }
}
