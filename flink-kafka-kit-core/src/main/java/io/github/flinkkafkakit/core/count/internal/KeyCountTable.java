package io.github.flinkkafkakit.core.count.internal;

import org.apache.flink.annotation.Internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Counts per String key in a compact, allocation-free structure: each key is one record in a byte
 * arena — its count, its entry id, its length and its UTF-8 bytes side by side — and an
 * open-addressing {@code long[]} table of (hash, record address) pairs (linear probing, load ≤ 0.7)
 * finds the record. A lookup touches the slot and the one record (two cache lines on large tables);
 * counting an existing key allocates nothing. The arena is a list of 256 KiB pages, so it grows
 * without copying or over-allocating (and no page is a "humongous" G1 object); at 1 M keys of 10
 * bytes the table retains about 46 bytes per key (a {@code HashMap<String, Long>} needs well over
 * 100).
 *
 * <p>Entries are numbered in insertion order. The table tracks which entries changed since {@link
 * #clearDirty()} (a bit per entry) for coalesced emission, and remembers each entry's Flink key
 * group so snapshots can be written per key group without decoding keys.
 */
@Internal
public final class KeyCountTable {

    /** Eight bytes of a key at a time, for {@link #hash} and key comparison. */
    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private static final VarHandle INTS =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** An empty slot (record offsets are never negative, so no real slot equals it). */
    private static final long EMPTY = -1L;

    // Record layout: count (8 bytes), entry id (4), key length (1 byte when < 128, else 0xFF and
    // 4 bytes), key bytes. A record's address is (page << PAGE_BITS) | offset in the page; a record
    // never spans pages (a key longer than a page gets a page of its own).
    private static final int ENTRY_AT = 8;
    private static final int LENGTH_AT = 12;
    private static final int SHORT_KEY = 0x7f;
    private static final int PAGE_BITS = 18;
    private static final int PAGE_SIZE = 1 << PAGE_BITS;
    private static final int PAGE_MASK = PAGE_SIZE - 1;
    private static final int MAX_PAGES = 1 << (31 - PAGE_BITS);

    private byte[][] pages = new byte[4][];
    private int page = -1; // the page records are appended to
    private int pageUsed = PAGE_SIZE;
    private int pagesAllocated;
    private int[] offsets = new int[64]; // record address of entry i
    private short[] keyGroups = new short[64];
    private long[] dirtyBits = new long[1];
    private int dirtyCount;
    private int size;

    // Open-addressing slots: (hash << 32) | record offset, so a probe compares hashes without
    // touching the arena.
    private long[] slots;
    private int mask;

    // Reusable encoding buffer for the key being counted.
    private byte[] scratch = new byte[64];
    private int scratchLength;

    public KeyCountTable() {
        slots = new long[128];
        Arrays.fill(slots, EMPTY);
        mask = slots.length - 1;
    }

    public int size() {
        return size;
    }

    /** Removes every entry, keeping the arrays for reuse (no allocation when refilled). */
    public void clear() {
        Arrays.fill(slots, EMPTY);
        Arrays.fill(dirtyBits, 0L);
        dirtyCount = 0;
        page = -1;
        pageUsed = PAGE_SIZE;
        size = 0;
    }

    /**
     * Adds {@code delta} to {@code key}'s count.
     *
     * @param keyGroup the key's Flink key group (only used when the key is new)
     * @return the entry id of the key
     */
    public int add(String key, long delta, int keyGroup) {
        return addScratch(encodeAndHash(key), delta, keyGroup);
    }

    /** {@link #add} for a key that is already UTF-8 bytes. */
    public int add(byte[] key, int from, int length, long delta, int keyGroup) {
        ensureScratch(length);
        System.arraycopy(key, from, scratch, 0, length);
        scratchLength = length;
        return addScratch(hash(scratch, 0, length), delta, keyGroup);
    }

    /** Sets the key group of an entry (after {@link #add} created it). */
    public void setKeyGroup(int entry, int keyGroup) {
        keyGroups[entry] = (short) keyGroup;
    }

    /** Adds {@code delta} to the key currently in {@code scratch}, inserting it if new. */
    private int addScratch(int hash, long delta, int keyGroup) {
        int slot = hash & mask;
        while (true) {
            long s = slots[slot];
            if (s == EMPTY) {
                int record = insert(delta, keyGroup);
                slots[slot] = ((long) hash << 32) | record;
                if (size * 10 > slots.length * 7) {
                    rehash();
                }
                return size - 1;
            }
            int record = (int) s;
            if ((int) (s >>> 32) == hash && keyEquals(record)) {
                byte[] p = pages[record >>> PAGE_BITS];
                int at = record & PAGE_MASK;
                LONGS.set(p, at, (long) LONGS.get(p, at) + delta);
                return (int) INTS.get(p, at + ENTRY_AT);
            }
            slot = (slot + 1) & mask;
        }
    }

    public long count(int entry) {
        int record = offsets[entry];
        return (long) LONGS.get(pages[record >>> PAGE_BITS], record & PAGE_MASK);
    }

    public int keyGroup(int entry) {
        return keyGroups[entry] & 0xffff;
    }

    /** The key of an entry (allocates; for emission and snapshots, not the hot path). */
    public String key(int entry) {
        int record = offsets[entry];
        byte[] p = pages[record >>> PAGE_BITS];
        int at = record & PAGE_MASK;
        return new String(p, keyStart(p, at), keyLength(p, at), StandardCharsets.UTF_8);
    }

    /** Writes the key bytes of an entry to {@code out}. */
    public void writeKey(int entry, java.io.DataOutput out) throws java.io.IOException {
        int record = offsets[entry];
        byte[] p = pages[record >>> PAGE_BITS];
        int at = record & PAGE_MASK;
        int length = keyLength(p, at);
        out.writeInt(length);
        out.write(p, keyStart(p, at), length);
    }

    /** Marks an entry changed since the last {@link #clearDirty()}; idempotent. */
    public void markDirty(int entry) {
        long bit = 1L << entry;
        int word = entry >>> 6;
        if ((dirtyBits[word] & bit) == 0) {
            dirtyBits[word] |= bit;
            dirtyCount++;
        }
    }

    public int dirtyCount() {
        return dirtyCount;
    }

    /** The first changed entry at or after {@code from}, or -1 (iterate with {@code e + 1}). */
    public int nextDirty(int from) {
        int word = from >>> 6;
        if (word >= dirtyBits.length) {
            return -1;
        }
        long bits = dirtyBits[word] & (-1L << from);
        while (true) {
            if (bits != 0) {
                int entry = (word << 6) + Long.numberOfTrailingZeros(bits);
                return entry < size ? entry : -1;
            }
            if (++word >= dirtyBits.length) {
                return -1;
            }
            bits = dirtyBits[word];
        }
    }

    public void clearDirty() {
        if (dirtyCount > 0) {
            Arrays.fill(dirtyBits, 0L);
            dirtyCount = 0;
        }
    }

    /** Approximate heap bytes retained by this table (for the memory benchmark). */
    public long retainedBytes() {
        long arena = 0;
        for (int i = 0; i < pagesAllocated; i++) {
            arena += pages[i].length;
        }
        return arena
                + 4L * pages.length
                + 4L * offsets.length
                + 2L * keyGroups.length
                + 8L * dirtyBits.length
                + 8L * slots.length
                + scratch.length;
    }

    private static int keyLength(byte[] p, int at) {
        int length = p[at + LENGTH_AT];
        return length >= 0 ? length : (int) INTS.get(p, at + LENGTH_AT + 1);
    }

    private static int keyStart(byte[] p, int at) {
        return at + LENGTH_AT + (p[at + LENGTH_AT] >= 0 ? 1 : 5);
    }

    /** Whether the record's key equals {@code scratch}, compared eight bytes at a time. */
    private boolean keyEquals(int record) {
        byte[] a = pages[record >>> PAGE_BITS];
        record &= PAGE_MASK;
        byte[] b = scratch;
        int length = scratchLength;
        int from;
        if (length <= SHORT_KEY) {
            if (a[record + LENGTH_AT] != length) {
                return false;
            }
            from = record + LENGTH_AT + 1;
        } else {
            if (a[record + LENGTH_AT] >= 0 || (int) INTS.get(a, record + LENGTH_AT + 1) != length) {
                return false;
            }
            from = record + LENGTH_AT + 5;
        }
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            if ((long) LONGS.get(a, from + i) != (long) LONGS.get(b, i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (a[from + i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    /** Appends a record for the key in {@code scratch}; returns its offset. */
    private int insert(long count, int keyGroup) {
        int entry = size;
        if (entry == offsets.length) {
            int n = entry * 2;
            offsets = Arrays.copyOf(offsets, n);
            keyGroups = Arrays.copyOf(keyGroups, n);
        }
        if ((entry >>> 6) >= dirtyBits.length) {
            dirtyBits = Arrays.copyOf(dirtyBits, dirtyBits.length * 2);
        }
        int length = scratchLength;
        int header = LENGTH_AT + (length <= SHORT_KEY ? 1 : 5);
        int needed = header + length;
        if (page < 0 || pageUsed + needed > pages[page].length) {
            nextPage(needed);
        }
        int at = pageUsed;
        byte[] p = pages[page];
        LONGS.set(p, at, count);
        INTS.set(p, at + ENTRY_AT, entry);
        if (length <= SHORT_KEY) {
            p[at + LENGTH_AT] = (byte) length;
        } else {
            p[at + LENGTH_AT] = (byte) 0xff;
            INTS.set(p, at + LENGTH_AT + 1, length);
        }
        System.arraycopy(scratch, 0, p, at + header, length);
        int record = (page << PAGE_BITS) | at;
        offsets[entry] = record;
        pageUsed += needed;
        keyGroups[entry] = (short) keyGroup;
        size++;
        return record;
    }

    /** Moves on to the next page (reusing one kept by {@link #clear()} when it is big enough). */
    private void nextPage(int needed) {
        if (page + 1 == MAX_PAGES) {
            throw new IllegalStateException(
                    "The count table of this subtask holds 2 GiB of keys and cannot grow;"
                            + " raise the parallelism so each subtask owns fewer keys");
        }
        page++;
        if (page == pages.length) {
            pages = Arrays.copyOf(pages, pages.length * 2);
        }
        if (page >= pagesAllocated || pages[page].length < needed) {
            pages[page] = new byte[Math.max(PAGE_SIZE, needed)];
            pagesAllocated = Math.max(pagesAllocated, page + 1);
        }
        pageUsed = 0;
    }

    private void rehash() {
        long[] bigger = new long[slots.length * 2];
        Arrays.fill(bigger, EMPTY);
        int biggerMask = bigger.length - 1;
        for (long s : slots) {
            if (s == EMPTY) {
                continue;
            }
            int slot = (int) (s >>> 32) & biggerMask;
            while (bigger[slot] != EMPTY) {
                slot = (slot + 1) & biggerMask;
            }
            bigger[slot] = s;
        }
        slots = bigger;
        mask = biggerMask;
    }

    /**
     * Copies {@code key} into {@code scratch} as UTF-8 and returns {@link #hash} of those bytes, in
     * one pass for ASCII keys (one byte per char, no allocation).
     */
    private int encodeAndHash(String key) {
        int n = key.length();
        ensureScratch(n);
        byte[] bytes = scratch;
        long h = n;
        long word = 0;
        int shift = 0;
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (c >= 0x80) {
                return encodeUtf8(key); // rare: non-ASCII keys
            }
            bytes[i] = (byte) c;
            word |= (long) c << shift;
            shift += 8;
            if (shift == 64) {
                h = mix(h, word);
                word = 0;
                shift = 0;
            }
        }
        scratchLength = n;
        return finish(mix(h, word));
    }

    private int encodeUtf8(String key) {
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        ensureScratch(utf8.length);
        System.arraycopy(utf8, 0, scratch, 0, utf8.length);
        scratchLength = utf8.length;
        return hash(scratch, 0, scratchLength);
    }

    private void ensureScratch(int length) {
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, scratch.length * 2)];
        }
    }

    /**
     * A hash of the bytes, eight at a time (little-endian words, then the zero-padded tail), with a
     * multiply-xorshift mix per word: far shorter dependency chains than a per-byte hash, and
     * well-mixed low bits for the slot index.
     */
    static int hash(byte[] bytes, int from, int length) {
        long h = length;
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            h = mix(h, (long) LONGS.get(bytes, from + i));
        }
        long tail = 0;
        for (int shift = 0; i < length; i++, shift += 8) {
            tail |= (bytes[from + i] & 0xffL) << shift;
        }
        return finish(mix(h, tail));
    }

    private static long mix(long h, long word) {
        h = (h ^ word) * 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 32);
    }

    private static int finish(long h) {
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }
}
