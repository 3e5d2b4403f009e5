package io.github.flinkkafkakit.core.count.internal;

import org.apache.flink.annotation.Internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Counts per String key in a compact, allocation-free structure: keys live as UTF-8 bytes in one
 * growable byte arena, counts in a {@code long[]}, and an open-addressing {@code long[]} table of
 * (hash, entry) pairs (linear probing, load ≤ 0.7) maps hashes to entries. Counting an existing key
 * allocates nothing; at 1 M keys of 10 bytes it retains about 45 bytes per key (a {@code
 * HashMap<String, Long>} needs well over 100).
 *
 * <p>Tracks which entries changed since {@link #clearDirty()} (a bit per entry plus a list of entry
 * ids) for coalesced emission, and remembers each entry's Flink key group so snapshots can be
 * written per key group without decoding keys.
 */
@Internal
public final class KeyCountTable {

    /** Eight bytes of a key at a time, for {@link #hash}. */
    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** An empty slot (entry ids are never negative, so no real slot equals it). */
    private static final long EMPTY = -1L;

    // Entries, in insertion order.
    private byte[] arena = new byte[1 << 12];
    private int arenaUsed;
    private int[] offsets = new int[64]; // start of key i in arena; end = offsets[i + 1] or used
    private long[] counts = new long[64];
    private short[] keyGroups = new short[64];
    private long[] dirtyBits = new long[1];
    private int dirtyCount;
    private int size;

    // Open-addressing slots: (hash << 32) | entry id, so a probe compares hashes without touching
    // the entry arrays (one cache miss fewer per lookup on large tables).
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
        arenaUsed = 0;
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
                int entry = insert(hash, keyGroup);
                slots[slot] = ((long) hash << 32) | entry;
                if (size * 10 > slots.length * 7) {
                    rehash();
                }
                counts[entry] = delta;
                return entry;
            }
            int entry = (int) s;
            if ((int) (s >>> 32) == hash && keyEquals(entry)) {
                counts[entry] += delta;
                return entry;
            }
            slot = (slot + 1) & mask;
        }
    }

    public long count(int entry) {
        return counts[entry];
    }

    public int keyGroup(int entry) {
        return keyGroups[entry] & 0xffff;
    }

    /** The key of an entry (allocates; for emission and snapshots, not the hot path). */
    public String key(int entry) {
        int from = offsets[entry];
        return new String(arena, from, end(entry) - from, StandardCharsets.UTF_8);
    }

    /** Writes the key bytes of an entry to {@code out}. */
    public void writeKey(int entry, java.io.DataOutput out) throws java.io.IOException {
        int from = offsets[entry];
        int length = end(entry) - from;
        out.writeInt(length);
        out.write(arena, from, length);
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
        return arena.length
                + 4L * offsets.length
                + 8L * counts.length
                + 2L * keyGroups.length
                + 8L * dirtyBits.length
                + 8L * slots.length
                + scratch.length;
    }

    private int end(int entry) {
        return entry + 1 < size ? offsets[entry + 1] : arenaUsed;
    }

    private boolean keyEquals(int entry) {
        int from = offsets[entry];
        int length = end(entry) - from;
        if (length != scratchLength) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (arena[from + i] != scratch[i]) {
                return false;
            }
        }
        return true;
    }

    private int insert(int hash, int keyGroup) {
        int entry = size;
        if (entry == offsets.length) {
            int n = entry * 2;
            offsets = Arrays.copyOf(offsets, n);
            counts = Arrays.copyOf(counts, n);
            keyGroups = Arrays.copyOf(keyGroups, n);
        }
        if ((entry >>> 6) >= dirtyBits.length) {
            dirtyBits = Arrays.copyOf(dirtyBits, dirtyBits.length * 2);
        }
        if (arenaUsed + scratchLength > arena.length) {
            // Grow by half: the arena is the largest array, doubling would waste up to half.
            int grown = arena.length + (arena.length >> 1);
            arena = Arrays.copyOf(arena, Math.max(grown, arenaUsed + scratchLength));
        }
        System.arraycopy(scratch, 0, arena, arenaUsed, scratchLength);
        offsets[entry] = arenaUsed;
        arenaUsed += scratchLength;
        keyGroups[entry] = (short) keyGroup;
        size++;
        return entry;
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
