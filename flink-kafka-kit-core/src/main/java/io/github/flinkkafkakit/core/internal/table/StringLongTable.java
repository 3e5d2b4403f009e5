package io.github.flinkkafkakit.core.internal.table;

import org.apache.flink.annotation.Internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A String → long table with each key's Flink key group, compact and allocation-free: the kit's
 * counts ({@code Counts}) keep their counts in it, and the state module its String-keyed value
 * slots and changed-key sets. An open-addressing table of 24-byte slots (three {@code long}s,
 * linear probing, load ≤ 0.7), each holding a key of up to 11 UTF-8 bytes <em>inline</em>, its
 * value and its key group. A lookup of such a key reads one slot and compares the key as two
 * machine words: no pointer to follow, so a key out of the CPU caches costs one memory access
 * instead of two dependent ones. Longer keys live in a byte arena (a list of 256 KiB pages, so it
 * grows without copying and no page is a "humongous" G1 object) and their slot holds the key's hash
 * and arena address. Updating an existing key allocates nothing.
 *
 * <p>An entry id is the index of the key's slot: valid until the next {@link #add} of a new key
 * (which may grow the table and move every key). {@link #next} lists the entries, {@link
 * #nextDirty} those changed since {@link #clearDirty()} (a bit per slot) for coalesced emission;
 * the key group of each entry lets snapshots be written per key group without decoding keys.
 */
@Internal
public final class StringLongTable {

    /** Eight bytes of a long key at a time, for {@link #hash}. */
    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private static final VarHandle INTS =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    // Slot layout, three longs: [COUNT] the count; [ID] high 32 bits the tag, low 32 bits the key
    // group << 1 | 1 (0 = empty slot); [BODY]. A key of at most INLINE UTF-8 bytes: tag = its
    // length and its first three bytes, body = its next eight (little-endian, zero-padded), so two
    // keys are equal exactly when tag and body are. A longer key: tag = LONG_KEY (a length no
    // inline key has), body = its hash << 32 | its arena address.
    private static final int COUNT = 0;
    private static final int ID = 1;
    private static final int BODY = 2;
    private static final int SLOT_LONGS = 3;
    private static final int INLINE = 11;
    private static final int LONG_KEY = 0xff;

    // Arena record of a long key: length (4 bytes), UTF-8 bytes. An address is
    // (page << PAGE_BITS) | offset in the page; a record never spans pages (a key longer than a
    // page gets a page of its own).
    private static final int PAGE_BITS = 18;
    private static final int PAGE_SIZE = 1 << PAGE_BITS;
    private static final int PAGE_MASK = PAGE_SIZE - 1;
    private static final int MAX_PAGES = 1 << (31 - PAGE_BITS);

    private byte[][] pages = new byte[4][];
    private int page = -1; // the page records are appended to
    private int pageUsed = PAGE_SIZE;
    private int pagesAllocated;
    private long[] dirtyBits; // a bit per slot
    private int dirtyCount;
    private int size;

    private long[] slots;
    private int capacity; // slots, a power of two
    private int mask;

    // Reusable encoding buffer for keys that are not short ASCII.
    private byte[] scratch = new byte[64];

    // The key being looked up, as computed by the encode methods.
    private int keyTag;
    private long keyBody;
    private int keyLength; // in scratch, long keys only
    private int lookedUpHash; // of the last lookup()

    public StringLongTable() {
        allocateSlots(128);
    }

    /** A table sized for {@code expectedKeys} keys (it does not grow until it holds more). */
    public StringLongTable(int expectedKeys) {
        allocateSlots(slotsFor(expectedKeys));
    }

    /** The number of slots (a power of two, at least 128) that hold {@code keys} keys. */
    private static int slotsFor(long keys) {
        long wanted = Math.max(128L, keys * 10 / 7 + 1);
        return (int) Math.min(1 << 29, Long.highestOneBit(wanted - 1) << 1);
    }

    /** How many keys the table holds before adding one more makes it grow. */
    public int capacityKeys() {
        return (int) (capacity * 7L / 10);
    }

    /**
     * Grows the table, if needed, to hold {@code keys} keys without growing again: one rehash
     * instead of one per doubling, when the caller knows how many keys are coming. Entry ids change
     * as with {@link #add}.
     */
    public void reserve(int keys) {
        if (keys > capacityKeys()) {
            int slots = slotsFor(keys);
            if (slots > capacity) {
                rehash(slots, -1);
            }
        }
    }

    private void allocateSlots(int n) {
        slots = new long[n * SLOT_LONGS];
        dirtyBits = new long[Math.max(1, n >>> 6)];
        capacity = n;
        mask = n - 1;
    }

    public int size() {
        return size;
    }

    /** Removes every entry, keeping the arrays for reuse (no allocation when refilled). */
    public void clear() {
        Arrays.fill(slots, 0L);
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
     * @return the entry id of the key (see the class comment for how long it is valid)
     */
    public int add(String key, long delta, int keyGroup) {
        return addEncoded(encode(key), delta, keyGroup);
    }

    /** {@link #add} for a key that is already UTF-8 bytes. */
    public int add(byte[] key, int from, int length, long delta, int keyGroup) {
        return addEncoded(encode(key, from, length), delta, keyGroup);
    }

    /** Sets the key group of an entry (after {@link #add} created it). */
    public void setKeyGroup(int entry, int keyGroup) {
        int at = entry * SLOT_LONGS + ID;
        slots[at] = (slots[at] & ~0xffffffffL) | idBits(keyGroup);
    }

    /** The low half of the ID word of an occupied slot: never 0. */
    private static long idBits(int keyGroup) {
        return ((keyGroup & 0xffffL) << 1) | 1;
    }

    /** Adds {@code delta} to the key just encoded (with this hash), inserting it if new. */
    private int addEncoded(int hash, long delta, int keyGroup) {
        int slot = probe(hash);
        if (slot < 0) {
            return insert(-slot - 1, hash, delta, keyGroup);
        }
        slots[slot * SLOT_LONGS + COUNT] += delta;
        return slot;
    }

    /** The entry of {@code key}, or -1 when the table does not hold it. */
    public int find(String key) {
        int slot = lookup(key);
        return slot < 0 ? -1 : slot;
    }

    /**
     * Looks {@code key} up: its entry, or, when the table does not hold it, a negative number that
     * {@link #insertLookedUp} takes to add the key without encoding and probing it again, provided
     * no other method of the table ran in between.
     */
    public int lookup(String key) {
        int hash = encode(key);
        lookedUpHash = hash;
        return probe(hash);
    }

    /**
     * Adds the key of the last {@link #lookup}, which returned {@code lookup} (negative), with this
     * count; returns its entry.
     */
    public int insertLookedUp(int lookup, long count, int keyGroup) {
        return insert(-lookup - 1, lookedUpHash, count, keyGroup);
    }

    /**
     * The slot of the key just encoded (with this hash), or, when the table does not hold it,
     * {@code -(the empty slot it would go to) - 1}.
     */
    private int probe(int hash) {
        long[] s = slots;
        int tag = keyTag;
        long body = keyBody;
        int slot = hash & mask;
        while (true) {
            int at = slot * SLOT_LONGS;
            long id = s[at + ID];
            if ((int) id == 0) {
                return -slot - 1;
            }
            if ((int) (id >>> 32) == tag) {
                long b = s[at + BODY];
                if (tag != LONG_KEY
                        ? b == body
                        : (b >>> 32) == (body >>> 32) && arenaKeyEquals((int) b)) {
                    return slot;
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /** Sets the count of an entry (a caller may keep its own number there, e.g. an index). */
    public void setCount(int entry, long count) {
        slots[entry * SLOT_LONGS + COUNT] = count;
    }

    public long count(int entry) {
        return slots[entry * SLOT_LONGS + COUNT];
    }

    public int keyGroup(int entry) {
        return (int) slots[entry * SLOT_LONGS + ID] >>> 1 & 0xffff;
    }

    /** The first entry at or after {@code from}, or -1 (iterate with {@code e + 1}). */
    public int next(int from) {
        long[] s = slots;
        for (int slot = from; slot < capacity; slot++) {
            if ((int) s[slot * SLOT_LONGS + ID] != 0) {
                return slot;
            }
        }
        return -1;
    }

    /** The key of an entry (allocates; for emission and snapshots, not the hot path). */
    public String key(int entry) {
        return string(scratch, keyToScratch(entry));
    }

    /** A copy of the bytes of an entry's key (UTF-8 for a String key; allocates). */
    public byte[] keyBytes(int entry) {
        return Arrays.copyOf(scratch, keyToScratch(entry));
    }

    /** Writes the key bytes of an entry to {@code out}: length, then the UTF-8 bytes. */
    public void writeKey(int entry, java.io.DataOutput out) throws java.io.IOException {
        int length = keyToScratch(entry);
        out.writeInt(length);
        out.write(scratch, 0, length);
    }

    /** Copies the UTF-8 bytes of an entry's key to {@code scratch}; returns their length. */
    private int keyToScratch(int entry) {
        int at = entry * SLOT_LONGS;
        int tag = (int) (slots[at + ID] >>> 32);
        if (tag != LONG_KEY) {
            return inlineKey(tag, slots[at + BODY], scratch); // scratch is never below 11 bytes
        }
        int record = (int) slots[at + BODY];
        byte[] p = pages[record >>> PAGE_BITS];
        int offset = record & PAGE_MASK;
        int length = (int) INTS.get(p, offset);
        ensureScratch(length);
        System.arraycopy(p, offset + 4, scratch, 0, length);
        return length;
    }

    /** Writes an inline key's bytes to {@code to}; returns its length. */
    private static int inlineKey(int tag, long body, byte[] to) {
        int length = tag & 0xff;
        long lo = ((tag & 0xffffffffL) >>> 8) | (body << 24); // bytes 0..7
        long hi = body >>> 40; // bytes 8..10
        for (int i = 0; i < length; i++) {
            to[i] = (byte) (i < 8 ? lo >>> (8 * i) : hi >>> (8 * (i - 8)));
        }
        return length;
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
                return (word << 6) + Long.numberOfTrailingZeros(bits);
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
                + 8L * slots.length
                + 8L * dirtyBits.length
                + scratch.length;
    }

    /** Whether the long key in {@code scratch} equals the arena record at {@code record}. */
    private boolean arenaKeyEquals(int record) {
        byte[] a = pages[record >>> PAGE_BITS];
        int from = record & PAGE_MASK;
        int length = keyLength;
        if ((int) INTS.get(a, from) != length) {
            return false;
        }
        return Arrays.equals(a, from + 4, from + 4 + length, scratch, 0, length);
    }

    /** Fills the empty slot with the key just encoded; returns the key's entry id. */
    private int insert(int slot, int hash, long delta, int keyGroup) {
        long body = keyBody;
        if (keyTag == LONG_KEY) {
            body = ((long) hash << 32) | appendToArena();
        }
        int at = slot * SLOT_LONGS;
        slots[at + COUNT] = delta;
        slots[at + ID] = ((long) keyTag << 32) | idBits(keyGroup);
        slots[at + BODY] = body;
        size++;
        if (size * 10L > capacity * 7L) {
            return rehash(capacity * 2, slot);
        }
        return slot;
    }

    /** Appends the long key in {@code scratch} to the arena; returns its address. */
    private int appendToArena() {
        int length = keyLength;
        int needed = 4 + length;
        if (page < 0 || pageUsed + needed > pages[page].length) {
            nextPage(needed);
        }
        int at = pageUsed;
        byte[] p = pages[page];
        INTS.set(p, at, length);
        System.arraycopy(scratch, 0, p, at + 4, length);
        pageUsed += needed;
        return (page << PAGE_BITS) | at;
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

    /**
     * Moves every key into a table of {@code newCapacity} slots; returns where the key of slot
     * {@code track} went.
     */
    private int rehash(int newCapacity, int track) {
        if (capacity >= 1 << 29) {
            throw new IllegalStateException(
                    "The count table of this subtask holds "
                            + size
                            + " keys and cannot grow; raise the parallelism so each subtask owns"
                            + " fewer keys");
        }
        long[] old = slots;
        long[] oldDirty = dirtyBits;
        allocateSlots(newCapacity);
        long[] s = slots;
        int tracked = -1;
        for (int from = 0; from < old.length; from += SLOT_LONGS) {
            long id = old[from + ID];
            if ((int) id == 0) {
                continue;
            }
            int tag = (int) (id >>> 32);
            long body = old[from + BODY];
            int hash = tag == LONG_KEY ? (int) (body >>> 32) : inlineHash(tag, body);
            int slot = hash & mask;
            while ((int) s[slot * SLOT_LONGS + ID] != 0) {
                slot = (slot + 1) & mask;
            }
            int at = slot * SLOT_LONGS;
            s[at + COUNT] = old[from + COUNT];
            s[at + ID] = id;
            s[at + BODY] = body;
            int oldSlot = from / SLOT_LONGS;
            if ((oldDirty[oldSlot >>> 6] & (1L << oldSlot)) != 0) {
                dirtyBits[slot >>> 6] |= 1L << slot;
            }
            if (oldSlot == track) {
                tracked = slot;
            }
        }
        return tracked;
    }

    /**
     * Sets {@link #keyTag} and {@link #keyBody} for {@code key} (and {@code scratch}, for a long
     * key) and returns its hash; a short ASCII key takes one pass over its chars, no copy.
     */
    private int encode(String key) {
        int n = key.length();
        if (n <= INLINE) {
            // Chars 0..7 into lo, 8..10 into hi; one check for non-ASCII at the end.
            int chars = 0;
            long lo = 0;
            int first = Math.min(n, 8);
            for (int i = 0; i < first; i++) {
                char c = key.charAt(i);
                chars |= c;
                lo |= (long) c << (i << 3);
            }
            long hi = 0;
            for (int i = 8; i < n; i++) {
                char c = key.charAt(i);
                chars |= c;
                hi |= (long) c << ((i - 8) << 3);
            }
            if (chars >= 0x80) {
                return encodeUtf8(key); // rare: non-ASCII keys
            }
            return encodeInline(n, lo, hi);
        }
        ensureScratch(n);
        byte[] bytes = scratch;
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (c >= 0x80) {
                return encodeUtf8(key);
            }
            bytes[i] = (byte) c;
        }
        return encodeLong(n);
    }

    private int encodeUtf8(String key) {
        byte[] utf8 = utf8(key);
        return encode(utf8, 0, utf8.length);
    }

    /**
     * The UTF-8 bytes of {@code key}, except that a lone surrogate (no valid UTF-8 exists for it)
     * gets the three bytes of its code unit ("WTF-8") instead of {@code String.getBytes}'s {@code
     * '?'}: every String has its own bytes, so a lone U+D800 and "?" stay two keys, and {@link
     * #key} gives the String back.
     */
    static byte[] utf8(String key) {
        int n = key.length();
        byte[] out = new byte[n * 3];
        int at = 0;
        for (int i = 0; i < n; i++) {
            char c = key.charAt(i);
            if (c < 0x80) {
                out[at++] = (byte) c;
            } else if (c < 0x800) {
                out[at++] = (byte) (0xc0 | c >> 6);
                out[at++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < n
                    && Character.isLowSurrogate(key.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, key.charAt(++i));
                out[at++] = (byte) (0xf0 | cp >> 18);
                out[at++] = (byte) (0x80 | cp >> 12 & 0x3f);
                out[at++] = (byte) (0x80 | cp >> 6 & 0x3f);
                out[at++] = (byte) (0x80 | cp & 0x3f);
            } else {
                out[at++] = (byte) (0xe0 | c >> 12);
                out[at++] = (byte) (0x80 | c >> 6 & 0x3f);
                out[at++] = (byte) (0x80 | c & 0x3f);
            }
        }
        return Arrays.copyOf(out, at);
    }

    /**
     * The String of UTF-8 bytes, and of the lone surrogates {@link #utf8} writes (bytes {@code ED
     * A0..BF xx}, which a UTF-8 decoder would replace).
     */
    static String string(byte[] bytes, int length) {
        boolean surrogates = false;
        for (int i = 0; i + 1 < length; i++) {
            if (bytes[i] == (byte) 0xed && (bytes[i + 1] & 0xff) >= 0xa0) {
                surrogates = true;
                break;
            }
        }
        if (!surrogates) {
            return new String(bytes, 0, length, StandardCharsets.UTF_8);
        }
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; ) {
            int c = bytes[i] & 0xff;
            if (i + (c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4) > length) {
                // not bytes utf8() wrote: decode as UTF-8 (malformed parts become U+FFFD)
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            if (c < 0x80) {
                out.append((char) c);
                i++;
            } else if (c < 0xe0) {
                out.append((char) ((c & 0x1f) << 6 | bytes[i + 1] & 0x3f));
                i += 2;
            } else if (c < 0xf0) {
                out.append(
                        (char)
                                ((c & 0x0f) << 12
                                        | (bytes[i + 1] & 0x3f) << 6
                                        | bytes[i + 2] & 0x3f));
                i += 3;
            } else {
                out.appendCodePoint(
                        (c & 0x07) << 18
                                | (bytes[i + 1] & 0x3f) << 12
                                | (bytes[i + 2] & 0x3f) << 6
                                | bytes[i + 3] & 0x3f);
                i += 4;
            }
        }
        return out.toString();
    }

    /** {@link #encode(String)} for UTF-8 bytes. */
    private int encode(byte[] key, int from, int length) {
        if (length <= INLINE) {
            long lo = 0;
            long hi = 0;
            for (int i = 0; i < length; i++) {
                long b = key[from + i] & 0xffL;
                if (i < 8) {
                    lo |= b << (8 * i);
                } else {
                    hi |= b << (8 * (i - 8));
                }
            }
            return encodeInline(length, lo, hi);
        }
        ensureScratch(length);
        System.arraycopy(key, from, scratch, 0, length);
        return encodeLong(length);
    }

    /** An inline key of {@code length} bytes: bytes 0..7 in {@code lo}, 8..10 in {@code hi}. */
    private int encodeInline(int length, long lo, long hi) {
        int tag = length | (int) (lo << 8);
        long body = (lo >>> 24) | (hi << 40);
        keyTag = tag;
        keyBody = body;
        return inlineHash(tag, body);
    }

    /** A long key of {@code length} bytes in {@code scratch}. */
    private int encodeLong(int length) {
        keyLength = length;
        keyTag = LONG_KEY;
        int hash = hash(scratch, 0, length);
        keyBody = (long) hash << 32; // the address part is not compared (the arena bytes are)
        return hash;
    }

    private void ensureScratch(int length) {
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, scratch.length * 2)];
        }
    }

    private static int inlineHash(int tag, long body) {
        return finish(mix(mix(0x5bd1e995L, tag & 0xffffffffL), body));
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
