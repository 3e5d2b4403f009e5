package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.internal.table.StringLongTable;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.Arrays;

/**
 * The values of a changelog {@code ValueState} with String keys, held by the changelog operator
 * instead of Flink's heap keyed state: keys in {@link StringLongTable}s (UTF-8 bytes inline in
 * their slots, the key group beside them), values in arrays at the index a table holds as the
 * entry's count.
 *
 * <p>There is one table (a segment) per changelog partition the subtask owns, chosen by the key's
 * key group. Restoring from the changelog is then one table insert per key, with the key bytes
 * taken from the changelog record as they are (no String, no per-key-group hash map and its
 * incremental rehash), and partitions read by different threads fill different segments in
 * parallel. Flink checkpoints get the entries per key group through the operator's raw keyed state,
 * so Flink's restore and rescaling work as for any keyed state.
 *
 * <p>{@code Long} values (a state of {@code LongSerializer}) are kept as {@code long}s: no object
 * per key for the garbage collector to copy, and no reference written into an old array (with its
 * card marking) per update or restored key.
 *
 * <p>A cleared key keeps its entry (with no value) until its segment is compacted, which {@link
 * #compactIfSparse} does once most of its entries are empty.
 */
@Internal
final class StringValueTable {

    private final int firstKeyGroup;

    /** The segment of each key group of the subtask's range, from {@link #firstKeyGroup}. */
    private final int[] segmentOf;

    private final Segment[] segments;

    /** Whether the values are {@code Long}s kept as {@code long}s (see {@link #restoreLong}). */
    private final boolean holdsLongs;

    /**
     * The key of the last {@link #get}, its segment and what the segment's lookup returned, for the
     * {@link #put} that usually follows (a read, then an update of the same key). Anything else
     * done to the table forgets it.
     */
    private String lookedUp;

    private Segment lookedUpSegment;
    private int lookup;

    /**
     * @param firstKeyGroup the first key group of the subtask's range
     * @param segmentOf the segment of each key group of the range, from {@code firstKeyGroup}
     */
    StringValueTable(int firstKeyGroup, int[] segmentOf, boolean longValues) {
        this.firstKeyGroup = firstKeyGroup;
        this.segmentOf = segmentOf;
        int count = 0;
        for (int s : segmentOf) {
            count = Math.max(count, s + 1);
        }
        this.holdsLongs = longValues;
        this.segments = new Segment[count];
        for (int i = 0; i < count; i++) {
            segments[i] = new Segment(longValues, 0);
        }
    }

    boolean holdsLongs() {
        return holdsLongs;
    }

    private Segment segment(int keyGroup) {
        return segments[segmentOf[keyGroup - firstKeyGroup]];
    }

    /** Keys with a value. */
    int size() {
        int live = 0;
        for (Segment s : segments) {
            live += s.live;
        }
        return live;
    }

    /** How many entries the segments hold before one of them grows (for tests). */
    int capacityKeys() {
        int keys = 0;
        for (Segment s : segments) {
            keys += s.table.capacityKeys();
        }
        return keys;
    }

    /** Entries held, with or without a value (for tests). */
    int entries() {
        int entries = 0;
        for (Segment s : segments) {
            entries += s.table.size();
        }
        return entries;
    }

    /** The value of {@code key} (in key group {@code keyGroup}), or null. */
    Object get(String key, int keyGroup) {
        Segment s = segment(keyGroup);
        int result = s.table.lookup(key);
        lookedUp = key;
        lookedUpSegment = s;
        lookup = result;
        return result < 0 ? null : s.valueOf(result);
    }

    /** Sets the value of {@code key} (in key group {@code keyGroup}); null removes it. */
    void put(String key, int keyGroup, Object value) {
        Segment s = segment(keyGroup);
        int result = key == lookedUp && s == lookedUpSegment ? lookup : s.table.lookup(key);
        lookedUp = null;
        s.put(result, keyGroup, value);
    }

    /**
     * Sets the value of a key given as UTF-8 bytes, in key group {@code keyGroup}; null removes it.
     * For the restore: threads that restore key groups of different segments may call it at the
     * same time.
     */
    void restore(byte[] utf8, int from, int length, int keyGroup, Object value) {
        Segment s = segment(keyGroup);
        s.set(s.indexOf(utf8, from, length, keyGroup), value);
    }

    /**
     * {@link #restore(byte[], int, int, int, Object)} of a value that is not null, in a table that
     * {@link #holdsLongs()}.
     */
    void restoreLong(byte[] utf8, int from, int length, int keyGroup, long value) {
        Segment s = segment(keyGroup);
        s.setLong(s.indexOf(utf8, from, length, keyGroup), value);
    }

    /**
     * Tells the segment of changelog partition {@code firstPartition + segment} how far a restore
     * of that partition is, so it grows to the number of keys the partition likely holds instead of
     * doubling its way there (see {@link Segment#makeRoom}). Called by the fetch thread that
     * restores the segment, before its first record; {@link #endRestore()} ends it.
     */
    void expectRestore(int segment, ChangelogRestorer.PartitionProgress progress) {
        if (segment >= 0 && segment < segments.length) {
            segments[segment].restoring = progress;
        }
    }

    /** After a restore: segments grow by doubling again. */
    void endRestore() {
        for (Segment s : segments) {
            s.restoring = null;
        }
    }

    /** {@link #restore(byte[], int, int, int, Object)} for a key given as a String. */
    void restore(String key, int keyGroup, Object value) {
        Segment s = segment(keyGroup);
        s.makeRoom();
        s.put(s.table.lookup(key), keyGroup, value);
    }

    /**
     * The entries with a value in the key groups {@code first} .. {@code last}, grouped by key
     * group (a counting sort, no key decoding): for {@link #writeKeyGroup}.
     */
    Grouped group(int first, int last) {
        lookedUp = null;
        int span = last - first + 1;
        int[] start = new int[span + 1];
        for (Segment s : segments) {
            for (int e = s.table.next(0); e >= 0; e = s.table.next(e + 1)) {
                if (s.hasValue(e)) {
                    start[s.table.keyGroup(e) - first + 1]++;
                }
            }
        }
        for (int i = 0; i < span; i++) {
            start[i + 1] += start[i];
        }
        long[] order = new long[start[span]];
        int[] fill = start.clone();
        for (int i = 0; i < segments.length; i++) {
            Segment s = segments[i];
            for (int e = s.table.next(0); e >= 0; e = s.table.next(e + 1)) {
                if (s.hasValue(e)) {
                    order[fill[s.table.keyGroup(e) - first]++] = (long) i << 32 | e;
                }
            }
        }
        return new Grouped(first, start, order);
    }

    /**
     * Writes the entries of one key group: their number, then each key (length, UTF-8 bytes) and
     * value (length, serialized bytes).
     */
    <T> void writeKeyGroup(
            Grouped grouped,
            int keyGroup,
            TypeSerializer<T> serializer,
            DataOutputSerializer scratch,
            DataOutputView out)
            throws IOException {
        int from = grouped.start[keyGroup - grouped.first];
        int to = grouped.start[keyGroup - grouped.first + 1];
        out.writeInt(to - from);
        for (int i = from; i < to; i++) {
            Segment s = segments[(int) (grouped.order[i] >>> 32)];
            int entry = (int) grouped.order[i];
            s.table.writeKey(entry, out);
            if (s.longs != null) { // as LongSerializer writes it
                out.writeInt(Long.BYTES);
                out.writeLong(s.longs[(int) s.table.count(entry)]);
                continue;
            }
            @SuppressWarnings("unchecked")
            T value = (T) s.valueOf(entry);
            scratch.clear();
            serializer.serialize(value, scratch);
            out.writeInt(scratch.length());
            out.write(scratch.getSharedBuffer(), 0, scratch.length());
        }
    }

    /**
     * Copies {@code entries} entries {@link #writeKeyGroup written} from {@code in} to {@code out}.
     */
    static void copyEntries(DataInputView in, int entries, DataOutputView out) throws IOException {
        for (int i = 0; i < 2 * entries; i++) { // a key, then a value: each length and bytes
            int length = in.readInt();
            out.writeInt(length);
            out.write(in, length);
        }
    }

    /**
     * Reads {@code entries} entries {@link #writeKeyGroup written} for key group {@code keyGroup}.
     */
    <T> void read(DataInputView in, int keyGroup, int entries, TypeSerializer<T> serializer)
            throws IOException {
        lookedUp = null;
        byte[] key = new byte[64];
        for (int i = 0; i < entries; i++) {
            int length = in.readInt();
            if (key.length < length) {
                key = new byte[length];
            }
            in.readFully(key, 0, length);
            in.readInt(); // the value's length
            restore(key, 0, length, keyGroup, serializer.deserialize(in));
        }
    }

    /** Calls {@code action} with each key that has a value and its value. */
    void forEach(EntryAction action) throws Exception {
        lookedUp = null;
        for (Segment s : segments) {
            for (int e = s.table.next(0); e >= 0; e = s.table.next(e + 1)) {
                Object value = s.valueOf(e);
                if (value != null) {
                    action.accept(s.table.key(e), value);
                }
            }
        }
    }

    /**
     * Rebuilds each segment whose entries are mostly those of cleared keys (and more than a few
     * thousand), so keys that come and go do not hold memory.
     */
    void compactIfSparse() {
        lookedUp = null;
        for (Segment s : segments) {
            s.compactIfSparse();
        }
    }

    /**
     * Records a segment's restore gives it before it extrapolates its size from them (fewer say
     * little about the share of distinct keys).
     */
    private static final int RESTORE_SAMPLE = 4096;

    /** How many times the keys it holds a restoring segment grows to at most, at once. */
    private static final long RESTORE_GROWTH = 8;

    /** One table and its values. */
    private static final class Segment {
        StringLongTable table;

        /** The values by index (the entry's count in the table), unless they are longs. */
        Object[] values;

        /** Long values by index, and a bit per index that is set when the index has a value. */
        long[] longs;

        long[] held;

        /** Entries with a value. */
        int live;

        /** How far a restore of the segment's partition is, during one; null otherwise. */
        ChangelogRestorer.PartitionProgress restoring;

        Segment(boolean longValues, int expectedKeys) {
            table = expectedKeys > 0 ? new StringLongTable(expectedKeys) : new StringLongTable();
            int length = Math.max(64, expectedKeys);
            if (longValues) {
                longs = new long[length];
                held = new long[(length + 63) >>> 6];
            } else {
                values = new Object[length];
            }
        }

        Object valueOf(int entry) {
            int index = (int) table.count(entry);
            if (values != null) {
                return values[index];
            }
            return has(index) ? Long.valueOf(longs[index]) : null;
        }

        boolean hasValue(int entry) {
            int index = (int) table.count(entry);
            return values != null ? values[index] != null : has(index);
        }

        private boolean has(int index) {
            return (held[index >>> 6] & (1L << index)) != 0;
        }

        /**
         * Stores the value of an entry about to be added to the table; returns its index (entries
         * get consecutive ones: the table's size before the entry is added).
         */
        int add(Object value) {
            int index = table.size();
            grow(index);
            set(index, value);
            return index;
        }

        /**
         * The value index of a key given as UTF-8 bytes; a new key is added, with room for its
         * value (none yet).
         */
        int indexOf(byte[] utf8, int from, int length, int keyGroup) {
            makeRoom();
            int before = table.size();
            int entry = table.add(utf8, from, length, 0, keyGroup);
            if (table.size() != before) {
                grow(before);
                table.setCount(entry, before);
            }
            return (int) table.count(entry);
        }

        /**
         * Before a restored record's key is looked up: when the table is full, grows it (and the
         * value arrays) to the keys the partition's records are likely to hold, extrapolated from
         * the share of new keys among its records so far (of every state), up to {@link
         * #RESTORE_GROWTH} times the keys it holds (and at least double, as it grows on its own).
         * Growing by doubling, a table rehashes every key it ends up with about once more and
         * leaves as much garbage behind as its final size; a restore of unique keys (a compacted
         * changelog) grows its tables about twice instead. The bound keeps a changelog whose first
         * records hold more distinct keys than the rest (an uncompacted tail of updates) from
         * sizing a table far beyond its keys.
         */
        private void makeRoom() {
            ChangelogRestorer.PartitionProgress progress = restoring;
            if (progress == null) {
                return;
            }
            int keys = table.size();
            long seen = progress.passed();
            if (keys < table.capacityKeys() || seen < RESTORE_SAMPLE) {
                return;
            }
            long likely = (long) ((double) keys * progress.expected() / seen);
            // at least one more key: the table then doubles, as it would on its own
            long target = Math.max(keys + 1L, Math.min(likely, RESTORE_GROWTH * keys));
            table.reserve((int) Math.min(target, Integer.MAX_VALUE - 8));
            if (table.capacityKeys() > (values != null ? values.length : longs.length)) {
                resize(table.capacityKeys());
            }
        }

        /** Makes room for index {@code index} (new indexes come one at a time). */
        void grow(int index) {
            int length = values != null ? values.length : longs.length;
            if (index < length) {
                return;
            }
            resize(index + (index >> 1));
        }

        /** Makes the value arrays {@code length} long (no shorter than they are). */
        private void resize(int length) {
            if (values != null) {
                values = Arrays.copyOf(values, length);
            } else {
                longs = Arrays.copyOf(longs, length);
                held = Arrays.copyOf(held, (length + 63) >>> 6);
            }
        }

        /**
         * Sets the value of the key its table's last lookup was for, which returned {@code lookup}
         * (a new key is added only with a value).
         */
        void put(int lookup, int keyGroup, Object value) {
            if (lookup >= 0) {
                set((int) table.count(lookup), value);
            } else if (value != null) {
                table.insertLookedUp(lookup, add(value), keyGroup);
            }
        }

        void set(int index, Object value) {
            if (longs != null && value != null) {
                setLong(index, (Long) value);
                return;
            }
            boolean before;
            if (values != null) {
                before = values[index] != null;
                values[index] = value;
            } else { // no value
                before = has(index);
                held[index >>> 6] &= ~(1L << index);
            }
            live += (value != null ? 1 : 0) - (before ? 1 : 0);
        }

        void setLong(int index, long value) {
            if (!has(index)) {
                held[index >>> 6] |= 1L << index;
                live++;
            }
            longs[index] = value;
        }

        void compactIfSparse() {
            int dead = table.size() - live;
            if (dead <= live || dead < 4096) {
                return;
            }
            Segment compacted = new Segment(longs != null, live);
            for (int e = table.next(0); e >= 0; e = table.next(e + 1)) {
                if (hasValue(e)) {
                    compacted.table.add(table.key(e), compacted.add(valueOf(e)), table.keyGroup(e));
                }
            }
            table = compacted.table;
            values = compacted.values;
            longs = compacted.longs;
            held = compacted.held;
            live = compacted.live;
        }
    }

    /**
     * Entries grouped by key group: those of key group k are {@code order[start[k - first]] ..},
     * each (segment << 32 | entry).
     */
    static final class Grouped {
        final int first;
        final int[] start;
        final long[] order;

        Grouped(int first, int[] start, long[] order) {
            this.first = first;
            this.start = start;
            this.order = order;
        }
    }

    @FunctionalInterface
    interface EntryAction {
        void accept(String key, Object value) throws Exception;
    }
}
