package io.github.flinkkafkakit.core.internal.table;

import io.github.flinkkafkakit.testing.Seeds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class StringLongTableTest {

    /** A fresh seed per test; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    @Test
    void shouldCountLikeAHashMapAcrossGrowthAndRehashing() {
        StringLongTable table = new StringLongTable();
        Map<String, Long> expected = new HashMap<>();
        Random random = seeds.random();
        for (int i = 0; i < 300_000; i++) {
            String key = "k" + (int) (Math.pow(random.nextDouble(), 3) * 50_000);
            table.add(key, 1, 0);
            expected.merge(key, 1L, Long::sum);
        }
        assertThat(table.size()).isEqualTo(expected.size());
        Map<String, Long> listed = new HashMap<>();
        for (int e = table.next(0); e >= 0; e = table.next(e + 1)) {
            assertThat(listed.put(table.key(e), table.count(e))).as(table.key(e)).isNull();
        }
        assertThat(listed).isEqualTo(expected);
    }

    @Test
    void shouldKeepChangedMarksAndKeyGroupsWhenTheTableGrows() {
        StringLongTable table = new StringLongTable();
        for (int i = 0; i < 50; i++) {
            table.markDirty(table.add("dirty-" + i, i, i));
        }
        for (int i = 0; i < 100_000; i++) { // several doublings
            int e = table.add("clean-key-number-" + i, 1, 100 + i % 1000);
            assertThat(table.keyGroup(e)).isEqualTo(100 + i % 1000);
        }
        Map<String, Long> dirty = new HashMap<>();
        for (int e = table.nextDirty(0); e >= 0; e = table.nextDirty(e + 1)) {
            dirty.put(table.key(e), table.count(e));
            assertThat(table.keyGroup(e)).isEqualTo((int) table.count(e));
        }
        assertThat(table.dirtyCount()).isEqualTo(50);
        assertThat(dirty).hasSize(50).containsEntry("dirty-0", 0L).containsEntry("dirty-49", 49L);
    }

    @Test
    void shouldCountFromZeroAfterClearWithNoTraceOfEarlierEntries() {
        StringLongTable table = new StringLongTable();
        for (int i = 0; i < 10_000; i++) {
            table.markDirty(table.add("old" + i, 5, 1));
        }
        table.clear();
        int fresh = table.add("new", 2, 3);
        int old = table.add("old7", 1, 3);
        assertThat(table.add("new", 2, 3)).isEqualTo(fresh);

        assertThat(table.size()).isEqualTo(2);
        assertThat(table.dirtyCount()).isZero();
        assertThat(table.key(fresh)).isEqualTo("new");
        assertThat(table.count(fresh)).isEqualTo(4);
        assertThat(table.key(old)).isEqualTo("old7");
        assertThat(table.count(old)).isEqualTo(1);
        assertThat(table.nextDirty(0)).isEqualTo(-1);
        int listed = 0;
        for (int e = table.next(0); e >= 0; e = table.next(e + 1)) {
            listed++;
        }
        assertThat(listed).isEqualTo(2);
    }

    @Test
    void shouldFindTheSameEntryForAKeyAsStringAndAsBytesAtEveryLength() {
        StringLongTable table = new StringLongTable();
        StringBuilder key = new StringBuilder();
        for (int length = 0; length <= 300; length++) { // short and long key records
            String k = key.toString();
            int entry = table.add(k, 1, 0);
            byte[] bytes = k.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] padded = new byte[bytes.length + 6];
            System.arraycopy(bytes, 0, padded, 3, bytes.length);
            assertThat(table.add(padded, 3, bytes.length, 1, 0))
                    .as("length %d", length)
                    .isEqualTo(entry);
            assertThat(table.count(entry)).isEqualTo(2);
            key.append((char) ('a' + length % 26));
        }
        assertThat(table.size()).isEqualTo(301);
    }

    @Test
    void shouldTreatNonAsciiKeysAndByteKeysAlike() {
        StringLongTable table = new StringLongTable();
        int e1 = table.add("grüße-東京", 2, 7);
        byte[] utf8 = "grüße-東京".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int e2 = table.add(utf8, 0, utf8.length, 3, 7);

        assertThat(e2).isEqualTo(e1);
        assertThat(table.count(e1)).isEqualTo(5);
        assertThat(table.key(e1)).isEqualTo("grüße-東京");
        assertThat(table.keyGroup(e1)).isEqualTo(7);
        assertThat(table.add("", 1, 0)).isNotEqualTo(e1);
    }

    @Test
    void shouldListEachChangedEntryOnceUntilCleared() {
        StringLongTable table = new StringLongTable();
        for (int i = 0; i < 200; i++) {
            table.markDirty(table.add("k" + (i % 70), 1, 0));
        }
        assertThat(table.dirtyCount()).isEqualTo(70);
        int listed = 0;
        for (int e = table.nextDirty(0); e >= 0; e = table.nextDirty(e + 1)) {
            listed++;
        }
        assertThat(listed).isEqualTo(70);
        table.clearDirty();
        table.markDirty(table.add("k3", 1, 0));
        assertThat(table.dirtyCount()).isEqualTo(1);
        int entry = table.nextDirty(0);
        assertThat(table.key(entry)).isEqualTo("k3");
        assertThat(table.nextDirty(entry + 1)).isEqualTo(-1);
    }

    @Test
    void shouldCountKeysLongerThanAPageBetweenShortOnesAndAfterClear() {
        StringLongTable table = new StringLongTable();
        String huge = "h".repeat(300_000);
        for (int round = 0; round < 2; round++) {
            int a = table.add("a", 1, 0);
            int h = table.add(huge, 2, 0);
            int b = table.add("b", 3, 0);
            table.add(huge, 4, 0);
            assertThat(table.key(h)).isEqualTo(huge);
            assertThat(table.count(h)).isEqualTo(6);
            assertThat(table.count(a)).isEqualTo(1);
            assertThat(table.count(b)).isEqualTo(3);
            assertThat(table.size()).isEqualTo(3);
            table.clear();
        }
    }

    @Test
    void shouldKeepTheKeyGroupOfLargeKeyGroupIds() {
        StringLongTable table = new StringLongTable();
        int e = table.add("x", 1, 32767);
        assertThat(table.keyGroup(e)).isEqualTo(32767);
    }

    @Test
    void shouldKeepApartKeysThatUtf8CannotTellApartAndGiveThemBack() {
        // String.getBytes(UTF_8) turns a lone surrogate into '?'.
        String[] keys = {
            "?",
            "\uD800",
            "a\uDC00b",
            "\uD83D\uDE00",
            "\uD83D",
            "é",
            "x\uD83Dy, a key longer than 11",
            "x?y, a key longer than 11",
            "\uDBFF\uDFFF\uDBFF"
        };
        StringLongTable table = new StringLongTable();
        for (int i = 0; i < keys.length; i++) {
            table.add(keys[i], i + 1, 0);
        }
        assertThat(table.size()).isEqualTo(keys.length);
        for (int i = 0; i < keys.length; i++) {
            int e = table.find(keys[i]);
            assertThat(table.count(e)).as(keys[i]).isEqualTo(i + 1);
            assertThat(table.key(e)).isEqualTo(keys[i]);
        }
    }

    @Test
    void shouldFindOnlyTheKeysItHoldsWithoutAddingAny() {
        StringLongTable table = new StringLongTable();
        int shortKey = table.add("short", 1, 0);
        int longKey = table.add("a key of more than eleven bytes", 1, 0);
        int nonAscii = table.add("grüße", 1, 0);
        assertThat(table.find("short")).isEqualTo(shortKey);
        assertThat(table.find("a key of more than eleven bytes")).isEqualTo(longKey);
        assertThat(table.find("grüße")).isEqualTo(nonAscii);
        assertThat(table.find("shorT")).isEqualTo(-1);
        assertThat(table.find("a key of more than eleven byteS")).isEqualTo(-1);
        assertThat(table.find("")).isEqualTo(-1);
        assertThat(table.size()).isEqualTo(3);
    }

    @Test
    void shouldDecodeBytesItDidNotWriteWithoutFailing() {
        // a lone-surrogate lead cut short: not from utf8(), decoded as UTF-8 with replacements
        byte[] cut = {'a', (byte) 0xed, (byte) 0xa0};
        assertThat(StringLongTable.string(cut, 3)).startsWith("a").doesNotContain("\uD800");
        byte[] lone = StringLongTable.utf8("x\uD800");
        assertThat(StringLongTable.string(lone, lone.length)).isEqualTo("x\uD800");
    }

    @Test
    void shouldGrowOnceToWhatItReservesKeepingEveryEntryAndMark() {
        StringLongTable table = new StringLongTable();
        for (int i = 0; i < 80; i++) { // short and long keys, some marked
            int e = table.add(i % 2 == 0 ? "k" + i : "a key longer than eleven, " + i, i, i);
            if (i % 3 == 0) {
                table.markDirty(e);
            }
        }
        table.reserve(10); // fewer than it holds: nothing to do
        int before = table.capacityKeys();
        assertThat(before).isGreaterThanOrEqualTo(80);

        table.reserve(50_000);
        int reserved = table.capacityKeys();
        assertThat(reserved).isBetween(50_000, 2 * 50_000);
        for (int i = 80; i < 50_000; i++) {
            table.add("k" + i, i, i % 1000);
        }
        assertThat(table.capacityKeys())
                .as("no growth up to the reserved keys")
                .isEqualTo(reserved);
        assertThat(table.size()).isEqualTo(50_000);
        for (int i = 0; i < 80; i++) {
            int e = table.find(i % 2 == 0 ? "k" + i : "a key longer than eleven, " + i);
            assertThat(table.count(e)).isEqualTo(i);
            assertThat(table.keyGroup(e)).isEqualTo(i);
        }
        int dirty = 0;
        for (int e = table.nextDirty(0); e >= 0; e = table.nextDirty(e + 1)) {
            assertThat(table.count(e) % 3).as(table.key(e)).isZero();
            dirty++;
        }
        assertThat(dirty).isEqualTo(27);
        assertThat(table.find("k4999")).isNotNegative();
        assertThat(table.count(table.find("k49999"))).isEqualTo(49_999);
    }
}
