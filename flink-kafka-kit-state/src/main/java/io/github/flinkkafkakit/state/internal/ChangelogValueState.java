package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;

import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;

/** {@link ValueState} whose changes go to the changelog at each checkpoint (coalesced per key). */
@Internal
final class ChangelogValueState<K, T> extends ChangelogState implements ValueState<T> {

    private final ValueState<T> inner;
    private final TypeSerializer<T> serializer;
    private final ChangelogOperator<K, ?, ?> operator;
    private final Set<K> dirty = new LinkedHashSet<>();
    private final DataInputDeserializer input = new DataInputDeserializer();

    ChangelogValueState(
            String name,
            ValueState<T> inner,
            TypeSerializer<T> serializer,
            ChangelogOperator<K, ?, ?> operator) {
        super(name);
        this.inner = inner;
        this.serializer = serializer;
        this.operator = operator;
    }

    @Override
    public T value() throws IOException {
        return inner.value();
    }

    @Override
    public void update(T value) throws IOException {
        inner.update(value);
        markDirty();
    }

    @Override
    public void clear() {
        inner.clear();
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
    void flush(ChangelogOperator<?, ?, ?> op) throws Exception {
        for (K key : dirty) {
            operator.setCurrentKey(key);
            T value = inner.value();
            operator.writeChange(
                    prefix,
                    key,
                    null,
                    value == null ? null : operator.serializeValue(serializer, value));
            writes++;
        }
        operator.changedKeys(dirty);
        dirty.clear();
    }

    @Override
    void restore(byte[] recordKey, int mapKeyStart, byte[] value) throws IOException {
        if (value == null) {
            inner.clear();
        } else {
            inner.update(deserialize(serializer, value, 0, input));
        }
    }
}
