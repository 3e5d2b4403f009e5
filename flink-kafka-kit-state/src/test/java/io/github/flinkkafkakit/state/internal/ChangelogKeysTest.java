package io.github.flinkkafkakit.state.internal;

import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ChangelogKeysTest {

    @Test
    void shouldRoundTripStateNameUserKeyAndMapKey() {
        byte[] userKey = new byte[300];
        Arrays.fill(userKey, (byte) 7);
        byte[] record =
                ChangelogKeys.recordKey(
                        32767, ChangelogKeys.prefix("seen"), userKey, new byte[] {1, 2});

        assertThat(ChangelogKeys.keyGroup(record)).isEqualTo(32767);
        assertThat(ChangelogKeys.stateName(record)).isEqualTo("seen");
        assertThat(ChangelogKeys.hasPrefix(record, ChangelogKeys.prefix("seen"))).isTrue();
        assertThat(ChangelogKeys.hasPrefix(record, ChangelogKeys.prefix("see"))).isFalse();
        int start = ChangelogKeys.userKeyStart(record);
        int end = ChangelogKeys.userKeyEnd(record);
        assertThat(Arrays.copyOfRange(record, start, end)).isEqualTo(userKey);
        assertThat(Arrays.copyOfRange(record, end, record.length)).containsExactly(1, 2);
    }

    @ParameterizedTest(name = "maxParallelism {0}, {1} partitions, parallelism {2}")
    @CsvSource({"128, 4, 1", "128, 4, 3", "128, 7, 2", "128, 1, 5", "256, 16, 3"})
    void shouldMapEachSubtasksKeyGroupsToAContiguousRangeOfPartitions(
            int maxParallelism, int partitions, int parallelism) {
        Set<Integer> all = new HashSet<>();
        double[] shares = new double[partitions];
        for (int subtask = 0; subtask < parallelism; subtask++) {
            KeyGroupRange range =
                    KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                            maxParallelism, parallelism, subtask);
            ChangelogRestorer restorer =
                    new ChangelogRestorer(null, "t", partitions, maxParallelism, range);
            Set<Integer> owned = new HashSet<>();
            restorer.ownedPartitions().forEach(tp -> owned.add(tp.partition()));
            for (int kg = range.getStartKeyGroup(); kg <= range.getEndKeyGroup(); kg++) {
                int p = ChangelogKeys.partitionOf(kg, maxParallelism, partitions);
                assertThat(p).isBetween(0, partitions - 1);
                assertThat(owned).contains(p);
            }
            all.addAll(owned);
            for (int p = 0; p < partitions; p++) {
                shares[p] += restorer.ownedShare(p);
                if (!owned.contains(p)) {
                    assertThat(restorer.ownedShare(p)).as("partition %d", p).isZero();
                }
            }
        }
        assertThat(all).hasSize(partitions);
        for (int p = 0; p < partitions; p++) { // the subtasks' shares of a partition make it whole
            assertThat(shares[p]).as("partition %d", p).isCloseTo(1.0, within(1e-9));
        }
    }
}
