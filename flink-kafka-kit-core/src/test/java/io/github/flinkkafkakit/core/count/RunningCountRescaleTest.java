package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.core.count.internal.RunningCountOperator;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Counts snapshot at parallelism 2, restored at 3 through Flink's key-group repartitioning,
 * continue exactly.
 */
class RunningCountRescaleTest {

    private static final int MAX_PARALLELISM = 128;

    /** A harness of one count operator at {@code parallelism}, subtask {@code subtask}. */
    private interface Harnesses<K> {
        KeyedOneInputStreamOperatorTestHarness<K, K, Tuple2<K, Long>> create(
                int parallelism, int subtask) throws Exception;
    }

    @Test
    void shouldContinueCountsExactlyAfterRescalingFromTwoToThree() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            keys.add("key-" + (i % 97));
        }
        assertContinuesAfterRescaling(
                keys,
                (parallelism, subtask) ->
                        harness(
                                new RunningCountOperator<String, String>(
                                        EmitPolicy.EVERY_RECORD, 0, false),
                                Types.STRING,
                                parallelism,
                                subtask));
    }

    /** Long keys (kept as their serialized bytes), emitted from the restored table's bytes. */
    @Test
    void shouldContinueLongKeyCountsExactlyAfterRescaling() throws Exception {
        List<Long> keys = new ArrayList<>();
        for (long i = 0; i < 500; i++) {
            keys.add((i % 97) * 1_000_000_007L - 40);
        }
        assertContinuesAfterRescaling(
                keys,
                (parallelism, subtask) ->
                        harness(
                                new RunningCountOperator<Long, Long>(
                                        EmitPolicy.ON_CHECKPOINT,
                                        0,
                                        false,
                                        LongSerializer.INSTANCE),
                                Types.LONG,
                                parallelism,
                                subtask));
    }

    private static <K> KeyedOneInputStreamOperatorTestHarness<K, K, Tuple2<K, Long>> harness(
            RunningCountOperator<K, K> operator,
            TypeInformation<K> keyType,
            int parallelism,
            int subtask)
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                operator, k -> k, keyType, MAX_PARALLELISM, parallelism, subtask);
    }

    private static int owner(Object key, int parallelism) {
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(
                key, MAX_PARALLELISM, parallelism);
    }

    /**
     * Counts {@code keys} at parallelism 2, snapshots, restores at 3 and counts each key once more:
     * every key's last emitted count must be its count before the snapshot plus one.
     */
    private static <K> void assertContinuesAfterRescaling(List<K> keys, Harnesses<K> harnesses)
            throws Exception {
        Map<K, Long> expected = new HashMap<>();
        List<OperatorSubtaskState> snapshots = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            try (var h = harnesses.create(2, subtask)) {
                h.open();
                for (K key : keys) {
                    if (owner(key, 2) == subtask) {
                        h.processElement(new StreamRecord<>(key));
                        expected.merge(key, 1L, Long::sum);
                    }
                }
                snapshots.add(h.snapshot(1, 1));
            }
        }
        OperatorSubtaskState merged =
                AbstractStreamOperatorTestHarness.repackageState(
                        snapshots.toArray(new OperatorSubtaskState[0]));

        Map<K, Long> after = new HashMap<>();
        for (int subtask = 0; subtask < 3; subtask++) {
            try (var h = harnesses.create(3, subtask)) {
                h.initializeState(
                        AbstractStreamOperatorTestHarness.repartitionOperatorState(
                                merged, MAX_PARALLELISM, 2, 3, subtask));
                h.open();
                for (K key : expected.keySet()) {
                    if (owner(key, 3) == subtask) {
                        h.processElement(new StreamRecord<>(key));
                    }
                }
                h.prepareSnapshotPreBarrier(2); // emits coalesced counts (ON_CHECKPOINT)
                for (Object out : h.getOutput()) {
                    @SuppressWarnings("unchecked")
                    Tuple2<K, Long> t = ((StreamRecord<Tuple2<K, Long>>) out).getValue();
                    after.put(t.f0, t.f1);
                }
            }
        }
        assertThat(after).hasSameSizeAs(expected);
        expected.forEach((key, n) -> assertThat(after.get(key)).as("" + key).isEqualTo(n + 1));
    }
}
