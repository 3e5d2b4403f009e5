package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.core.count.internal.RunningCountOperator;

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

    private static KeyedOneInputStreamOperatorTestHarness<String, String, Tuple2<String, Long>>
            harness(int parallelism, int subtask) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new RunningCountOperator<String, String>(EmitPolicy.EVERY_RECORD, 0, false),
                k -> k,
                Types.STRING,
                MAX_PARALLELISM,
                parallelism,
                subtask);
    }

    private static int owner(String key, int parallelism) {
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(
                key, MAX_PARALLELISM, parallelism);
    }

    @Test
    void shouldContinueCountsExactlyAfterRescalingFromTwoToThree() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            keys.add("key-" + (i % 97));
        }
        Map<String, Long> expected = new HashMap<>();
        List<OperatorSubtaskState> snapshots = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            try (var h = harness(2, subtask)) {
                h.open();
                for (String key : keys) {
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

        Map<String, Long> after = new HashMap<>();
        for (int subtask = 0; subtask < 3; subtask++) {
            OperatorSubtaskState state =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            merged, MAX_PARALLELISM, 2, 3, subtask);
            try (var h = harness(3, subtask)) {
                h.initializeState(state);
                h.open();
                for (String key : expected.keySet()) {
                    if (owner(key, 3) == subtask) {
                        h.processElement(new StreamRecord<>(key));
                    }
                }
                for (Object out : h.getOutput()) {
                    @SuppressWarnings("unchecked")
                    Tuple2<String, Long> t = ((StreamRecord<Tuple2<String, Long>>) out).getValue();
                    after.put(t.f0, t.f1);
                }
            }
        }
        assertThat(after).hasSameSizeAs(expected);
        expected.forEach((key, n) -> assertThat(after.get(key)).as(key).isEqualTo(n + 1));
    }

    /** Long keys (kept as their serialized bytes), emitted from the restored table's bytes. */
    @Test
    void shouldContinueLongKeyCountsExactlyAfterRescaling() throws Exception {
        Map<Long, Long> expected = new HashMap<>();
        List<OperatorSubtaskState> snapshots = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            try (var h = longHarness(2, subtask)) {
                h.open();
                for (long i = 0; i < 500; i++) {
                    long key = (i % 97) * 1_000_000_007L - 40;
                    if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, 2)
                            == subtask) {
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
        Map<Long, Long> after = new HashMap<>();
        for (int subtask = 0; subtask < 3; subtask++) {
            try (var h = longHarness(3, subtask)) {
                h.initializeState(
                        AbstractStreamOperatorTestHarness.repartitionOperatorState(
                                merged, MAX_PARALLELISM, 2, 3, subtask));
                h.open();
                for (Long key : expected.keySet()) {
                    if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, 3)
                            == subtask) {
                        h.processElement(new StreamRecord<>(key));
                    }
                }
                h.prepareSnapshotPreBarrier(2); // emits the changed counts
                for (Object out : h.getOutput()) {
                    @SuppressWarnings("unchecked")
                    Tuple2<Long, Long> t = ((StreamRecord<Tuple2<Long, Long>>) out).getValue();
                    after.put(t.f0, t.f1);
                }
            }
        }
        assertThat(after).hasSameSizeAs(expected);
        expected.forEach((key, n) -> assertThat(after.get(key)).as("" + key).isEqualTo(n + 1));
    }

    private static KeyedOneInputStreamOperatorTestHarness<Long, Long, Tuple2<Long, Long>>
            longHarness(int parallelism, int subtask) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new RunningCountOperator<Long, Long>(
                        EmitPolicy.ON_CHECKPOINT, 0, false, LongSerializer.INSTANCE),
                k -> k,
                Types.LONG,
                MAX_PARALLELISM,
                parallelism,
                subtask);
    }
}
