package io.github.flinkkafkakit.core.errors;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;

/**
 * How many failed records a job tolerates before it stops: more than {@code maxErrors} failed
 * records, or more than {@code maxFraction} of all records, within a window (counted per parallel
 * instance). A tripped budget fails the job once, without restarts, with a message saying so: a
 * broken upstream is noticed instead of silently dead-lettered forever.
 *
 * <pre>{@code
 * ErrorPolicy.deadLetter("orders-dlq")
 *         .withBudget(ErrorBudget.of(1_000, 0.05, Duration.ofMinutes(1)));
 * }</pre>
 */
@PublicEvolving
public final class ErrorBudget implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final ErrorBudget UNLIMITED =
            new ErrorBudget(Long.MAX_VALUE, 1.0, Duration.ofMinutes(1), 0);

    /** Fractions are only judged once a window has seen this many records. */
    static final long MIN_RECORDS_FOR_FRACTION = 100;

    private final long maxErrors;
    private final double maxFraction;
    private final Duration window;
    private final long minRecordsForFraction;

    private ErrorBudget(long maxErrors, double maxFraction, Duration window, long minRecords) {
        this.maxErrors = maxErrors;
        this.maxFraction = maxFraction;
        this.window = window;
        this.minRecordsForFraction = minRecords;
    }

    /** No limit (the default). */
    public static ErrorBudget unlimited() {
        return UNLIMITED;
    }

    /**
     * @param maxErrors most failed records tolerated per window
     * @param maxFraction most failed fraction tolerated per window (0..1], judged once the window
     *     saw 100 records
     * @param window length of the counting window
     */
    public static ErrorBudget of(long maxErrors, double maxFraction, Duration window) {
        if (maxErrors < 0) {
            throw new IllegalArgumentException("maxErrors must be >= 0, got " + maxErrors);
        }
        if (!(maxFraction > 0 && maxFraction <= 1)) {
            throw new IllegalArgumentException("maxFraction must be in (0, 1], got " + maxFraction);
        }
        if (window == null || window.isZero() || window.isNegative()) {
            throw new IllegalArgumentException("window must be a positive duration");
        }
        return new ErrorBudget(maxErrors, maxFraction, window, MIN_RECORDS_FOR_FRACTION);
    }

    /** Most failed records per window. */
    public static ErrorBudget maxErrors(long maxErrors, Duration window) {
        return of(maxErrors, 1.0, window);
    }

    public boolean isUnlimited() {
        return maxErrors == Long.MAX_VALUE && maxFraction >= 1.0;
    }

    /** A fresh counter for one parallel instance. */
    public Tracker newTracker() {
        return new Tracker();
    }

    @Override
    public String toString() {
        return isUnlimited()
                ? "unlimited"
                : String.format(
                        Locale.ROOT,
                        "at most %d records or %.1f %% per %d s",
                        maxErrors,
                        maxFraction * 100,
                        window.toSeconds());
    }

    /** Counts records and failures of one parallel instance in the current window. */
    public final class Tracker {
        private long windowStart = System.nanoTime();
        private long records;
        private long errors;

        private Tracker() {}

        /** Counts one successful record. */
        public void onRecord() {
            roll();
            records++;
        }

        /**
         * Counts one failed record.
         *
         * @return {@code null} while within budget, else the one-line reason the budget tripped
         */
        public String onError(Stage stage) {
            roll();
            records++;
            errors++;
            boolean tooMany = errors > maxErrors;
            boolean tooLarge =
                    records >= minRecordsForFraction && (double) errors / records > maxFraction;
            if (!tooMany && !tooLarge) {
                return null;
            }
            return String.format(
                    Locale.ROOT,
                    "Error budget exceeded: %d of %d records (%.1f %%) failed at stage %s within"
                            + " %d s (budget: %s). Fix the upstream data or raise the budget",
                    errors,
                    records,
                    100.0 * errors / records,
                    stage,
                    window.toSeconds(),
                    ErrorBudget.this);
        }

        private void roll() {
            long now = System.nanoTime();
            if (now - windowStart > window.toNanos()) {
                windowStart = now;
                records = 0;
                errors = 0;
            }
        }
    }
}
