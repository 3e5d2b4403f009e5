package io.github.flinkkafkakit.core.errors;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Objects;

/**
 * What happens to a record that cannot be read, processed or written.
 *
 * <ul>
 *   <li>{@link #fail()} (default): the job fails at once with a message naming the record (topic,
 *       partition, offset) and the cause — without restarts, since the same record would fail
 *       again;
 *   <li>{@link #skip()}: the record is dropped and counted;
 *   <li>{@link #log()}: the record is dropped, counted and logged (position and the cause's type,
 *       never its content nor the cause's message, which parsers fill with the input they
 *       rejected);
 *   <li>{@link #deadLetter(String)}: the record's original key, value and headers go to a
 *       dead-letter topic with {@code __fkk.errors.*} context headers, in the same transaction
 *       scheme as the job's output.
 * </ul>
 *
 * <pre>{@code
 * KafkaIn.<Order>builder()
 *         .setDeserializer(KafkaDeserializers.values(JsonSerde.of(Order.class)))
 *         .setErrorPolicy(ErrorPolicy.deadLetter("orders-dlq")
 *                 .withBudget(ErrorBudget.of(100, 0.01, Duration.ofMinutes(1))))
 * }</pre>
 *
 * <p>With any policy but {@code fail()}, a poison pill never restarts the job.
 */
@PublicEvolving
public final class ErrorPolicy implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The four reactions. */
    public enum Action {
        FAIL,
        SKIP,
        LOG,
        DEAD_LETTER
    }

    private final Action action;
    private final String deadLetterTopic;
    private final ErrorBudget budget;

    private ErrorPolicy(Action action, String deadLetterTopic, ErrorBudget budget) {
        this.action = action;
        this.deadLetterTopic = deadLetterTopic;
        this.budget = budget;
    }

    public static ErrorPolicy fail() {
        return new ErrorPolicy(Action.FAIL, null, ErrorBudget.unlimited());
    }

    public static ErrorPolicy skip() {
        return new ErrorPolicy(Action.SKIP, null, ErrorBudget.unlimited());
    }

    public static ErrorPolicy log() {
        return new ErrorPolicy(Action.LOG, null, ErrorBudget.unlimited());
    }

    public static ErrorPolicy deadLetter(String topic) {
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("dead-letter topic must not be empty");
        }
        return new ErrorPolicy(Action.DEAD_LETTER, topic, ErrorBudget.unlimited());
    }

    /** This policy with an error budget (ignored by {@link #fail()}). */
    public ErrorPolicy withBudget(ErrorBudget budget) {
        return new ErrorPolicy(action, deadLetterTopic, Objects.requireNonNull(budget, "budget"));
    }

    public Action action() {
        return action;
    }

    /** The dead-letter topic, or {@code null} unless {@link Action#DEAD_LETTER}. */
    public String deadLetterTopic() {
        return deadLetterTopic;
    }

    public ErrorBudget budget() {
        return budget;
    }

    @Override
    public String toString() {
        return action == Action.DEAD_LETTER
                ? "dead-letter(" + deadLetterTopic + ", budget " + budget + ")"
                : action.name().toLowerCase(java.util.Locale.ROOT)
                        + (action == Action.FAIL ? "" : "(budget " + budget + ")");
    }
}
