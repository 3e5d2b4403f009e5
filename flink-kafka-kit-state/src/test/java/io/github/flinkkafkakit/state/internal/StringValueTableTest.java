package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.testing.Seeds;

import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class StringValueTableTest {

    /** A fresh seed per test; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    private static final int MAX_PARALLELISM = 128;

    /**
     * Key groups 32..95 (a subtask of 2 at p=4), in four segments of 16 key groups; values as
     * objects or, when {@code longs}, as longs.
     */
    private static StringValueTable table(boolean longs) {
        int[] segmentOf = new int[64];
        for (int i = 0; i < segmentOf.length; i++) {
            segmentOf[i] = i / 16;
        }
        return new StringValueTable(32, segmentOf, longs);
    }

    /** A key of this subtask's key groups (32..95). */
    private static String key(Random random) {
        while (true) {
            int id = random.nextInt(100_000);
            String key =
                    id % 5 == 0 ? "a longer key, number " + id : id % 7 == 0 ? "ü" + id : "k" + id;
            int keyGroup = keyGroup(key);
            if (keyGroup >= 32 && keyGroup < 96) {
                return key;
            }
        }
    }

    private static int keyGroup(String key) {
        return KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_PARALLELISM);
    }

    @ParameterizedTest(name = "longs={0}")
    @ValueSource(booleans = {false, true})
    void shouldHoldTheSameValuesAsAHashMap(boolean longs) throws Exception {
        StringValueTable table = table(longs);
        Map<String, Long> expected = new HashMap<>();
        Random random = seeds.random();
        for (int i = 0; i < 200_000; i++) {
            String key = key(random);
            int op = random.nextInt(10);
            Object before = table.get(key, keyGroup(key));
            assertThat(before).isEqualTo(expected.get(key));
            if (op == 0) {
                table.put(key, keyGroup(key), null); // clear
                expected.remove(key);
            } else {
                // mostly the read-then-update pattern, sometimes an update without a read
                String same = op == 1 ? new String(key.toCharArray()) : key;
                long value = before == null ? 1 : (Long) before + 1;
                table.put(same, keyGroup(key), value);
                expected.put(key, value);
            }
        }
        assertThat(table.size()).isEqualTo(expected.size());
        Map<String, Object> held = new HashMap<>();
        table.forEach(held::put);
        assertThat(held).isEqualTo(expected);
    }

    @ParameterizedTest(name = "longs={0}")
    @ValueSource(booleans = {false, true})
    void shouldRoundTripThroughKeyGroupsAndRestoreFromBytes(boolean longs) throws Exception {
        StringValueTable table = table(longs);
        Map<String, Long> expected = new HashMap<>();
        Random random = seeds.random();
        for (int i = 0; i < 20_000; i++) {
            String key = key(random);
            table.put(key, keyGroup(key), (long) i);
            expected.put(key, (long) i);
        }
        // written per key group as a snapshot does, read back into a fresh table
        StringValueTable.Grouped grouped = table.group(32, 95);
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        DataOutputSerializer scratch = new DataOutputSerializer(64);
        for (int kg = 32; kg <= 95; kg++) {
            table.writeKeyGroup(grouped, kg, LongSerializer.INSTANCE, scratch, out);
        }
        StringValueTable copy = table(longs);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        for (int kg = 32; kg <= 95; kg++) {
            copy.read(in, kg, in.readInt(), LongSerializer.INSTANCE);
        }
        assertThat(in.available()).isZero();
        Map<String, Object> held = new HashMap<>();
        copy.forEach(held::put);
        assertThat(held).isEqualTo(expected);

        // restored from UTF-8 bytes (a changelog record's key), then read by String
        StringValueTable restored = table(longs);
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            byte[] framed = ("xx" + e.getKey()).getBytes(StandardCharsets.UTF_8);
            if (longs) { // as the restore of a Long state does: no Long per key
                assertThat(restored.holdsLongs()).isTrue();
                restored.restoreLong(framed, 2, framed.length - 2, keyGroup(e.getKey()), -5L);
                restored.restoreLong(
                        framed, 2, framed.length - 2, keyGroup(e.getKey()), e.getValue());
            } else {
                restored.restore(framed, 2, framed.length - 2, keyGroup(e.getKey()), e.getValue());
            }
        }
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            assertThat(restored.get(e.getKey(), keyGroup(e.getKey()))).isEqualTo(e.getValue());
        }
        // then changed and added to by String, as processing after a restore does
        for (int i = 0; i < 20_000; i++) {
            String key = key(random);
            Object before = restored.get(key, keyGroup(key));
            assertThat(before).isEqualTo(expected.get(key));
            restored.put(key, keyGroup(key), -1L - i);
            expected.put(key, -1L - i);
        }
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            assertThat(restored.get(e.getKey(), keyGroup(e.getKey()))).isEqualTo(e.getValue());
        }
        // keys that are not ASCII are restored by String (decoded from Flink's encoding)
        int nonAscii = 0;
        for (int i = 0; nonAscii < 20; i++) {
            String key = i % 3 == 0 ? "ü-" + i : i % 3 == 1 ? "\uD83D\uDE00" + i : "\uD800" + i;
            if (keyGroup(key) >= 32 && keyGroup(key) < 96) {
                nonAscii++;
                restored.restore(key, keyGroup(key), 7L);
                restored.restore(key, keyGroup(key), 8L); // a later change of the same key
                expected.put(key, 8L);
                assertThat(restored.get(key, keyGroup(key))).isEqualTo(8L);
            }
        }
        Map<String, Object> all = new HashMap<>();
        restored.forEach(all::put);
        assertThat(all).isEqualTo(expected);
        String first = expected.keySet().iterator().next();
        byte[] bytes = first.getBytes(StandardCharsets.UTF_8);
        restored.restore(bytes, 0, bytes.length, keyGroup(first), null); // a tombstone
        assertThat(restored.get(first, keyGroup(first))).isNull();
        assertThat(restored.size()).isEqualTo(expected.size() - 1);
    }

    @ParameterizedTest(name = "longs={0}")
    @ValueSource(booleans = {false, true})
    void shouldGiveClearedKeysMemoryBackWhenCompacted(boolean longs) throws Exception {
        StringValueTable table = table(longs);
        Random random = seeds.random();
        Map<String, Long> kept = new HashMap<>();
        for (int i = 0; i < 30_000; i++) {
            String key = key(random);
            table.put(key, keyGroup(key), 1L);
            kept.put(key, 1L);
        }
        int i = 0;
        for (String key : kept.keySet().toArray(new String[0])) {
            if (i++ % 10 != 0) {
                table.put(key, keyGroup(key), null);
                kept.remove(key);
            }
        }
        int before = table.entries();
        table.compactIfSparse();
        assertThat(table.entries()).isEqualTo(kept.size()).isLessThan(before);
        Map<String, Object> held = new HashMap<>();
        table.forEach(held::put);
        assertThat(held).isEqualTo(kept);
    }

    @Test
    void shouldFindTheAsciiCharactersOfASerializedString() throws Exception {
        for (String key : new String[] {"", "k1", "a".repeat(200), "ü1", "k\u0080", "\uD800"}) {
            DataOutputSerializer out = new DataOutputSerializer(16);
            out.writeByte(9); // bytes before the key, as in a record key
            StringSerializer.INSTANCE.serialize(key, out);
            byte[] bytes = out.getCopyOfBuffer();
            int start = StateRestore.asciiStart(bytes, 1, bytes.length);
            boolean ascii = key.chars().allMatch(c -> c < 0x80);
            if (ascii) {
                assertThat(new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8))
                        .isEqualTo(key);
            } else {
                assertThat(start).isEqualTo(-1);
            }
        }
    }

    /** A table with one segment, for key groups 0..127. */
    private static StringValueTable oneSegment(boolean longs) {
        return new StringValueTable(0, new int[MAX_PARALLELISM], longs);
    }

    /** Restores {@code key} with {@code value}, one more record of the partition. */
    private static void restore(
            StringValueTable table,
            ChangelogRestorer.PartitionProgress progress,
            String key,
            long value) {
        progress.pass();
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        if (table.holdsLongs()) {
            table.restoreLong(utf8, 0, utf8.length, keyGroup(key), value);
        } else {
            table.restore(utf8, 0, utf8.length, keyGroup(key), value);
        }
    }

    @ParameterizedTest(name = "longs={0}")
    @ValueSource(booleans = {false, true})
    void shouldGrowARestoringSegmentToTheKeysItsPartitionHoldsNotByDoubling(boolean longs)
            throws Exception {
        int keys = 100_000;
        StringValueTable table = oneSegment(longs);
        ChangelogRestorer.PartitionProgress progress =
                new ChangelogRestorer.PartitionProgress(keys);
        table.expectRestore(0, progress);
        Set<Integer> capacities = new LinkedHashSet<>();
        for (int i = 0; i < keys; i++) {
            restore(table, progress, "k" + i, i);
            if (i >= 8192) {
                capacities.add(table.capacityKeys());
            }
        }
        table.endRestore();
        // Doubling, the table would grow four times after 8,192 keys (at 11 K, 23 K, 46 K, 92 K).
        assertThat(capacities).as("capacities after 8,192 keys").hasSizeLessThanOrEqualTo(2);
        assertThat(table.capacityKeys()).isBetween(keys, 2 * keys);
        Map<String, Object> expected = new HashMap<>();
        for (int i = 0; i < keys; i++) {
            expected.put("k" + i, (long) i);
        }
        Map<String, Object> held = new HashMap<>();
        table.forEach(held::put);
        assertThat(held).isEqualTo(expected);

        // after the restore, a segment grows as it fills (doubling)
        int restored = table.capacityKeys();
        for (int i = keys; table.capacityKeys() == restored; i++) {
            table.put("k" + i, keyGroup("k" + i), (long) i);
        }
        assertThat(table.capacityKeys()).isBetween(2 * restored, 2 * restored + 1);
        assertThat(table.size()).isEqualTo(restored + 1);
    }

    @Test
    void shouldNotSizeARestoringSegmentForMoreThanEightTimesTheKeysItHolds() {
        // A changelog whose first records are distinct keys and the rest updates of them (an
        // uncompacted tail): after 10,000 of 1,000,000 records, every key so far is new.
        StringValueTable table = oneSegment(true);
        ChangelogRestorer.PartitionProgress progress =
                new ChangelogRestorer.PartitionProgress(1_000_000);
        table.expectRestore(0, progress);
        for (int i = 0; i < 10_000; i++) {
            restore(table, progress, "k" + i, i);
        }
        for (int i = 0; i < 200_000; i++) {
            restore(table, progress, "k" + (i % 10_000), i);
        }
        table.endRestore();
        // extrapolated, 1,000,000 keys; bounded, 8 times 5,734 (the keys when it grew), rounded
        // up to a power of two slots
        assertThat(table.capacityKeys()).isLessThanOrEqualTo(16 * 10_000);
        assertThat(table.size()).isEqualTo(10_000);
    }
}
