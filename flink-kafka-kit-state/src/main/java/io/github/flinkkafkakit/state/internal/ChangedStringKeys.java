package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.count.internal.KeyCountTable;

import org.apache.flink.annotation.Internal;

import java.util.AbstractSet;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The String keys a state changed since its last flush, in a {@link KeyCountTable} (the key bytes
 * inline in the table's slots) instead of a {@code HashSet}.
 *
 * <p>Marking a key is on every update's path. A {@code HashSet} of 100 K keys makes that three or
 * four dependent cache misses (table, node, the first record's String, its bytes) and keeps each
 * key's String alive until the checkpoint; JFR put it at a fifth of the keyed task. A key of up to
 * 11 UTF-8 bytes is compared inside its slot here: one cache miss, nothing allocated or retained.
 *
 * <p>Iteration yields new, equal Strings (in slot order); the set must not change while it is
 * iterated. {@link #remove} is not supported.
 */
@Internal
final class ChangedStringKeys extends AbstractSet<Object> {

    private KeyCountTable table = new KeyCountTable();

    /** The most keys held at a {@link #clear()} since the table was last replaced. */
    private int peak;

    @Override
    public boolean add(Object key) {
        int before = table.size();
        table.add((String) key, 0, 0);
        return table.size() != before;
    }

    @Override
    public boolean contains(Object key) {
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
        int size = table.size();
        peak = Math.max(peak, size);
        if (size * 16L < peak) {
            table = new KeyCountTable();
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
                String key = table.key(next);
                next = table.next(next + 1);
                return key;
            }
        };
    }
}
