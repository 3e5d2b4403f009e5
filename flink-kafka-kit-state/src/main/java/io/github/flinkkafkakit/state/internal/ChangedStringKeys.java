package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.internal.table.StringLongTable;

import org.apache.flink.annotation.Internal;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The String keys a state changed since its last flush, in a {@link StringLongTable} (the key bytes
 * inline in the table's slots) instead of a {@code HashSet}, and, {@link #withValues() with
 * values}, the latest value of each: a write-behind cache in front of Flink's state.
 *
 * <p>Marking a key is on every update's path. A {@code HashSet} of 100 K keys makes that three or
 * four dependent cache misses (table, node, the first record's String, its bytes) and keeps each
 * key's String alive until the checkpoint, a large share of a keyed task that does little else. A
 * key of up to 11 UTF-8 bytes is compared inside its slot here: one cache miss, nothing allocated
 * or retained.
 *
 * <p>With values, a key updated many times between two checkpoints costs one table lookup per read
 * and per write instead of a lookup in Flink's heap map for each (and the table lookup that marks
 * it): the changelog state writes the latest values to Flink's state once, at the barrier, just as
 * it writes them to the changelog. The value of an entry is kept in {@link #values} at the index
 * the table holds as the entry's count.
 *
 * <p>Iteration yields new, equal Strings (in slot order); the set must not change while it is
 * iterated. {@link #remove} is not supported.
 */
@Internal
public final class ChangedStringKeys extends AbstractSet<Object> {

    /** The value of a key that was cleared. */
    static final Object CLEARED = new Object();

    private StringLongTable table = new StringLongTable();

    /** The most keys held at a {@link #clear()} since the table was last replaced. */
    private int peak;

    /** With values: the value of each entry, at the index the table holds as its count. */
    private Object[] values;

    /**
     * The key of the last {@link #find} and what the table's lookup returned, for the {@link #put}
     * that usually follows (a read, then an update of the same key): it then neither encodes nor
     * probes the key again. Anything else done to the table forgets it.
     */
    private String lookedUp;

    private int lookup;

    /** A set of keys. */
    public ChangedStringKeys() {}

    private ChangedStringKeys(Object[] values) {
        this.values = values;
    }

    /** A set of keys that also holds each key's latest value ({@link #put}). */
    static ChangedStringKeys withValues() {
        return new ChangedStringKeys(new Object[64]);
    }

    @Override
    public boolean add(Object key) {
        lookedUp = null;
        if (values != null) {
            throw new UnsupportedOperationException("a key with values is added by put");
        }
        int before = table.size();
        table.add((String) key, 0, 0);
        return table.size() != before;
    }

    /** Sets the latest value of {@code key} ({@link #CLEARED} when it was cleared). */
    void put(String key, Object value) {
        int result = key == lookedUp ? lookup : table.lookup(key);
        lookedUp = null;
        if (result >= 0) {
            values[(int) table.count(result)] = value;
            return;
        }
        int index = table.size();
        if (index == values.length) {
            values = Arrays.copyOf(values, index * 2);
        }
        values[index] = value;
        table.insertLookedUp(result, index, 0);
    }

    /** The entry of {@code key}, or -1 when it did not change. */
    int find(String key) {
        int result = table.lookup(key);
        lookedUp = key;
        lookup = result;
        return result < 0 ? -1 : result;
    }

    /** The latest value of an entry ({@link #find}), or {@link #CLEARED}. */
    Object valueAt(int entry) {
        return values[(int) table.count(entry)];
    }

    @Override
    public boolean contains(Object key) {
        lookedUp = null;
        return key instanceof String && table.find((String) key) >= 0;
    }

    @Override
    public int size() {
        return table.size();
    }

    @Override
    public boolean isEmpty() {
        return table.size() == 0;
    }

    /**
     * Empties the set. The table keeps its arrays for the next checkpoint's keys, unless they have
     * become far too big: after a burst of changed keys, the first checkpoint with under 1/16 of
     * that peak gets a new, small table, and the burst's memory goes back to the heap.
     */
    @Override
    public void clear() {
        lookedUp = null;
        int size = table.size();
        if (values != null) {
            Arrays.fill(values, 0, size, null);
        }
        peak = Math.max(peak, size);
        if (size * 16L < peak) {
            table = new StringLongTable();
            if (values != null) {
                values = new Object[64];
            }
            peak = 0;
        } else if (size > 0) {
            table.clear();
        }
    }

    /** Heap bytes the table holds (for tests). */
    long retainedBytes() {
        return table.retainedBytes();
    }

    @Override
    public Iterator<Object> iterator() {
        return new Iterator<>() {
            private int next = table.next(0);

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public Object next() {
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                lookedUp = null; // key() uses the table's encoding buffer
                String key = table.key(next);
                next = table.next(next + 1);
                return key;
            }
        };
    }
}
