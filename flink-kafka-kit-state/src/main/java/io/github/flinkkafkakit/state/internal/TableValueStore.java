package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A {@link ValueStore} in a {@link StringValueTable}: String keys on Flink's heap backend, where
 * the table holds the values more compactly than Flink's state maps and restores them on the
 * restore's fetch threads. Flink checkpoints it through the operator's raw keyed state ({@link
 * TableSnapshots}); the Flink state of the same name stays empty (it only carries values a
 * checkpoint of an earlier version kept there, moved into the table on restore).
 *
 * @param <T> the value type
 */
@Internal
final class TableValueStore<T> implements ValueStore<T> {

    private static final VarHandle BIG_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final StringValueTable table;
    private final ValueState<T> flink;
    private final FlinkKeyedRuntime<?> runtime;

    TableValueStore(StringValueTable table, ValueState<T> flink, FlinkKeyedRuntime<?> runtime) {
        this.table = table;
        this.flink = flink;
        this.runtime = runtime;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get() {
        return (T) table.get((String) runtime.currentKey(), runtime.currentKeyGroup());
    }

    @Override
    public void put(T value) {
        table.put((String) runtime.currentKey(), runtime.currentKeyGroup(), value);
    }

    StringValueTable table() {
        return table;
    }

    /** Restores a value (null: a tombstone) of the key whose UTF-8 bytes are given. */
    void restore(byte[] utf8, int from, int length, int keyGroup, Object value) {
        table.restore(utf8, from, length, keyGroup, value);
    }

    /** Restores a value (null: a tombstone) of {@code key}. */
    void restore(String key, int keyGroup, Object value) {
        table.restore(key, keyGroup, value);
    }

    /**
     * Restores a changelog record of a key whose UTF-8 bytes are {@code utf8[from..from+length)}
     * straight into a table that {@link StringValueTable#holdsLongs() holds longs}, from the value
     * bytes as {@code LongSerializer} wrote them (8 bytes, big-endian): no {@code Long}. False when
     * that does not apply (another table, a tombstone); then the record is still to restore.
     */
    boolean restoreLong(byte[] utf8, int from, int length, int keyGroup, byte[] value) {
        if (value == null || value.length != Long.BYTES || !table.holdsLongs()) {
            return false;
        }
        table.restoreLong(utf8, from, length, keyGroup, (long) BIG_ENDIAN_LONG.get(value, 0));
        return true;
    }

    /**
     * Moves the current key's value from Flink's state into the table (a Flink checkpoint taken
     * while the state was kept in Flink's state, e.g. by an earlier version).
     */
    void moveCurrentKeyFromFlink() throws IOException {
        T value = flink.value();
        if (value != null) {
            put(value);
            flink.clear();
        }
    }
}
