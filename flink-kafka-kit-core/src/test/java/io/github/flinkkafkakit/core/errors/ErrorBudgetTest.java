package io.github.flinkkafkakit.core.errors;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ErrorBudget.Tracker}: counts, fractions and windows, one record at a time. */
class ErrorBudgetTest {

    @Test
    void shouldTripOnTheFirstErrorBeyondTheCount() {
        ErrorBudget.Tracker tracker = ErrorBudget.maxErrors(3, Duration.ofMinutes(1)).newTracker();
        for (int i = 0; i < 3; i++) {
            assertThat(tracker.onError(Stage.DESERIALIZE)).as("error %d", i + 1).isNull();
        }
        assertThat(tracker.onError(Stage.DESERIALIZE))
                .startsWith(
                        "Error budget exceeded: 4 of 4 records (100.0 %) failed at stage"
                                + " DESERIALIZE within 60 s");
    }

    @Test
    void shouldJudgeTheFractionOnlyOnceTheWindowSawAHundredRecords() {
        ErrorBudget.Tracker tracker =
                ErrorBudget.of(1_000, 0.5, Duration.ofMinutes(1)).newTracker();
        // 99 failed records of 99: far above 50 %, but too few records to judge.
        for (int i = 0; i < 99; i++) {
            assertThat(tracker.onError(Stage.PROCESS)).as("error %d", i + 1).isNull();
        }
        assertThat(tracker.onError(Stage.PROCESS))
                .startsWith(
                        "Error budget exceeded: 100 of 100 records (100.0 %) failed at stage"
                                + " PROCESS");
    }

    @Test
    void shouldStayWithinAFractionThatIsNotExceeded() {
        ErrorBudget.Tracker tracker =
                ErrorBudget.of(1_000, 0.1, Duration.ofMinutes(1)).newTracker();
        // Exactly 10 %: "more than maxFraction" trips, 10 % does not.
        for (int i = 1; i <= 1_000; i++) {
            if (i % 10 == 0) {
                assertThat(tracker.onError(Stage.PRODUCE)).as("record %d", i).isNull();
            } else {
                tracker.onRecord();
            }
        }
        tracker.onRecord();
        assertThat(tracker.onError(Stage.PRODUCE)).as("101 of 1002").isNotNull();
    }

    @Test
    void shouldStartCountingAgainInANewWindow() throws InterruptedException {
        Duration window = Duration.ofSeconds(1);
        ErrorBudget.Tracker tracker = ErrorBudget.maxErrors(2, window).newTracker();
        assertThat(tracker.onError(Stage.DESERIALIZE)).isNull();
        assertThat(tracker.onError(Stage.DESERIALIZE)).isNull();

        Thread.sleep(window.toMillis() + 200);

        // A new window: the two earlier errors no longer count (4 in all would trip at once).
        assertThat(tracker.onError(Stage.DESERIALIZE)).as("first of the new window").isNull();
        assertThat(tracker.onError(Stage.DESERIALIZE)).as("second of the new window").isNull();
        assertThat(tracker.onError(Stage.DESERIALIZE))
                .as("third of the new window")
                .startsWith("Error budget exceeded: 3 of 3 records");
    }
}
