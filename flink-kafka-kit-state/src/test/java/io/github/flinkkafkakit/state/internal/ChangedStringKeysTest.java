package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.testing.Seeds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ChangedStringKeysTest {

    /** A fresh seed per test; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    @Test
    void shouldHoldTheSameKeysAsAHashSetAcrossGrowthAndClears() {
        ChangedStringKeys keys = new ChangedStringKeys();
        Random random = seeds.random();
        for (int round = 0; round < 3; round++) {
            Set<String> expected = new HashSet<>();
            for (int i = 0; i < 50_000; i++) {
                // short and long keys, repeated ones, the odd non-ASCII one
                int id = (int) (Math.pow(random.nextDouble(), 2) * 20_000);
                String key =
                        id % 3 == 0 ? "long key number " + id : id % 7 == 0 ? "ü" + id : "k" + id;
                assertThat(keys.add(key)).isEqualTo(expected.add(key));
            }
            assertThat(keys).hasSize(expected.size());
            assertThat(new HashSet<>(keys)).isEqualTo(expected);
            assertThat(keys.contains("k" + 20_001)).isFalse();
            assertThat(keys.contains(expected.iterator().next())).isTrue();
            keys.clear();
            assertThat(keys).isEmpty();
            assertThat(keys.iterator().hasNext()).isFalse();
        }
    }

    @Test
    void shouldKeepKeysThatDifferOnlyInInvalidUtf16() {
        ChangedStringKeys keys = new ChangedStringKeys();
        List<String> distinct = List.of("?", "\uD800", "\uDC00", "a\uD800b", "a?b", "");
        for (String key : distinct) {
            assertThat(keys.add(key)).as(key).isTrue();
            assertThat(keys.add(new String(key.toCharArray()))).as(key).isFalse();
        }
        assertThat(new HashSet<>(keys)).containsExactlyInAnyOrderElementsOf(distinct);
    }

    @Test
    void shouldGiveABurstsMemoryBackOnceFarFewerKeysChange() {
        ChangedStringKeys keys = new ChangedStringKeys();
        long empty = keys.retainedBytes();
        for (int i = 0; i < 100_000; i++) {
            keys.add("key-" + i);
        }
        keys.clear();
        long afterBurst = keys.retainedBytes();
        for (int i = 0; i < 50_000; i++) { // still a busy checkpoint: the arrays are reused
            keys.add("key-" + i);
        }
        keys.clear();
        assertThat(keys.retainedBytes()).isEqualTo(afterBurst).isGreaterThan(empty * 100);
        for (int i = 0; i < 10; i++) {
            keys.add("key-" + i);
        }
        keys.clear();
        assertThat(keys.retainedBytes()).isEqualTo(empty);
        assertThat(keys).isEmpty();
        assertThat(keys.add("key-1")).isTrue();
    }

    @Test
    void shouldKeepEachKeysLatestValueAcrossGrowthWithOrWithoutALookUpFirst() {
        ChangedStringKeys changed = ChangedStringKeys.withValues();
        Map<String, Object> expected = new HashMap<>();
        Random random = seeds.random();
        for (int i = 0; i < 200_000; i++) {
            int id = (int) (Math.pow(random.nextDouble(), 2) * 30_000);
            String key = id % 5 == 0 ? "a long key, number " + id : "k" + id;
            int lookedUp = random.nextInt(3);
            if (lookedUp > 0) { // read, then update the same key: the usual path
                int entry = changed.find(key);
                assertThat(entry < 0 ? null : changed.valueAt(entry)).isEqualTo(expected.get(key));
            }
            Object value = i % 97 == 0 ? ChangedStringKeys.CLEARED : Long.valueOf(i);
            // an equal String that is not the one looked up takes the full path
            changed.put(lookedUp == 2 ? new String(key.toCharArray()) : key, value);
            expected.put(key, value);
        }
        assertThat(changed).hasSize(expected.size());
        assertThat(new HashSet<>(changed)).isEqualTo(expected.keySet());
        expected.forEach(
                (key, value) -> assertThat(changed.valueAt(changed.find(key))).isSameAs(value));
        changed.clear();
        assertThat(changed.find("k1")).isEqualTo(-1);
        assertThat(changed).isEmpty();
    }
}
