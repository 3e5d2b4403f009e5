package io.github.flinkkafkakit.testing.history;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KeyedHistoryTest {

    /** Inputs 1, 2, 3, 4 of key "a" (prefix sums 1, 3, 6, 10) and 5 of key "b". */
    private static KeyedHistory<String> inputs() {
        return new KeyedHistory<String>()
                .input("a", 1)
                .input("a", 2)
                .input("b", 5)
                .input("a", 3)
                .input("a", 4);
    }

    @Test
    void shouldAcceptCoalescedOutputsAtIncreasingPositions() {
        KeyedHistory.Verdict verdict =
                inputs().output("a", 3).output("b", 5).output("a", 10).checkRunningTotals(false);

        assertThat(verdict.isExact()).as(verdict.toString()).isTrue();
        assertThat(verdict.outputs()).isEqualTo(3);
    }

    @Test
    void shouldAcceptOneOutputPerInputOnlyWhenItIsEveryPrefix() {
        KeyedHistory<String> history = inputs().output("b", 5);
        for (long total : new long[] {1, 3, 6, 10}) {
            history.output("a", total);
        }
        assertThat(history.checkRunningTotals(true).isExact()).isTrue();

        KeyedHistory.Verdict skipped =
                inputs().output("b", 5)
                        .output("a", 1)
                        .output("a", 6)
                        .output("a", 10)
                        .checkRunningTotals(true);
        assertThat(skipped.isExact()).isFalse();
        assertThat(skipped.wrong()).isEqualTo(2);
    }

    @Test
    void shouldCountAReplayedTotalAsDuplicated() {
        // a restart that replays input already committed emits 3 and 6 again
        KeyedHistory.Verdict verdict =
                inputs().output("a", 3)
                        .output("a", 6)
                        .output("a", 3)
                        .output("a", 6)
                        .output("a", 10)
                        .output("b", 5)
                        .checkRunningTotals(false);

        assertThat(verdict.duplicated()).isEqualTo(2);
        assertThat(verdict.wrong()).isEqualTo(0);
        assertThat(verdict.isExact()).isFalse();
    }

    @Test
    void shouldCountAnInputAddedTwiceAsWrong() {
        // 1 + 2 + 2 (the second input counted twice) is no prefix sum
        KeyedHistory.Verdict verdict =
                inputs().output("a", 5).output("a", 12).output("b", 5).checkRunningTotals(false);

        assertThat(verdict.wrong()).isEqualTo(2);
        assertThat(verdict.incomplete()).isEqualTo(1);
        assertThat(verdict.examples()).anySatisfy(e -> assertThat(e).startsWith("a: output #1"));
    }

    @Test
    void shouldCountAKeyWhoseOutputsStopShortAsIncomplete() {
        KeyedHistory.Verdict verdict = inputs().output("a", 6).checkRunningTotals(false);

        assertThat(verdict.incomplete()).isEqualTo(2); // "a" stops at 6, "b" has no output
        assertThat(verdict.isExact()).isFalse();
    }

    @Test
    void shouldCountTheInputsWhoseEffectIsMissingAndKeysNeverInput() {
        KeyedHistory.Verdict verdict =
                inputs().output("a", 3).output("b", 5).output("z", 1).checkRunningTotals(false);

        assertThat(verdict.lost()).isEqualTo(2); // "a" stops after 2 of its 4 inputs
        assertThat(verdict.unexpectedKeys()).isEqualTo(1);
        assertThat(verdict.duplicatedOrWrong()).isEqualTo(1); // z's 1 is no prefix of nothing
        assertThat(verdict.toString()).contains("2 inputs lost").contains("1 keys never input");
    }

    @Test
    void shouldTellAtLeastOnceReplaysFromExactlyOnceWhereTheLastValuesAgree() {
        // Both end at the exact totals; only the history shows the replay.
        KeyedHistory.Verdict exactlyOnce =
                inputs().output("a", 3).output("a", 10).output("b", 5).checkRunningTotals(false);
        KeyedHistory.Verdict atLeastOnce =
                inputs().output("a", 3)
                        .output("a", 6)
                        .output("a", 6)
                        .output("a", 10)
                        .output("b", 5)
                        .checkRunningTotals(false);

        assertThat(exactlyOnce.isExact()).isTrue();
        assertThat(atLeastOnce.isExact()).isFalse();
        assertThat(atLeastOnce.duplicated()).isEqualTo(1);
        assertThat(atLeastOnce.lost()).isZero();
    }
}
