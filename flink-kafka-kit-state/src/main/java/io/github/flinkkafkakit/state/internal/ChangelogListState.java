package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.ListSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@link ListState} whose changes go to the changelog at each checkpoint: one record per changed
 * key holding the whole list (coalesced: however many elements were added since the last
 * checkpoint), a tombstone for an empty or cleared list.
 */
@Internal
final class ChangelogListState<K, T> extends ChangelogState implements ListState<T> {

    private final ListState<T> inner;
    private final ListSerializer<T> listSerializer;
    private final ChangeContext<K> context;
    private Set<Object> dirty;
    private Set<Object> flushing;

    ChangelogListState(
            String name,
            String changelogName,
            ListState<T> inner,
            TypeSerializer<T> elementSerializer,
            ChangeContext<K> context) {
        super(name, changelogName);
        this.inner = inner;
        this.listSerializer = new ListSerializer<>(elementSerializer);
        this.context = context;
        this.dirty = context.newChangedKeys();
        this.flushing = context.newChangedKeys();
    }

    private void markDirty() {
        updates++;
        dirty.add(context.currentKeyCopy());
    }

    @Override
    public Iterable<T> get() throws Exception {
        return inner.get();
    }

    @Override
    public void add(T value) throws Exception {
        inner.add(value);
        markDirty();
    }

    @Override
    public void addAll(List<T> values) throws Exception {
        inner.addAll(values);
        markDirty();
    }

    @Override
    public void update(List<T> values) throws Exception {
        inner.update(values);
        markDirty();
    }

    @Override
    public void clear() {
        inner.clear();
        markDirty();
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
        List<T> list = new ArrayList<>();
        Iterable<T> elements = inner.get();
        if (elements != null) {
            elements.forEach(list::add);
        }
        context.write(
                prefix,
                (K) key,
                null,
                list.isEmpty() ? null : context.serialize(listSerializer, list));
        writes++;
    }

    @Override
    void endFlush() {
        flushing.clear();
    }

    @Override
    Object newDecoding() {
        return new Decoding<>(listSerializer.duplicate());
    }

    @Override
    @SuppressWarnings("unchecked")
    Object decode(Object decoding, byte[] recordKey, int mapKeyStart, byte[] value)
            throws Exception {
        if (value == null) {
            return null;
        }
        Decoding<List<T>> d = (Decoding<List<T>>) decoding;
        return deserialize(d.serializer, value, 0, d.input);
    }

    @Override
    @SuppressWarnings("unchecked")
    void restoreDecoded(Object decoded) throws Exception {
        if (decoded == null) {
            inner.clear();
        } else {
            inner.update((List<T>) decoded);
        }
    }
}
