package io.github.flinkkafkakit.core.errors;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.execution.SuppressRestartsException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;

/**
 * Applies an {@link ErrorPolicy} to failures of one parallel instance: counts every outcome as a
 * Flink metric ({@code fkk.errors.skipped|logged|deadLettered}), logs (position and the cause's
 * type, never content nor the cause's message, which may quote it), tracks the {@link ErrorBudget},
 * and fails the job without restarts when the policy is {@code fail} or the budget is exceeded —
 * the same record would only fail again after a restart.
 */
@Internal
public final class FailureHandler implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);

    private final ErrorPolicy policy;
    private final Stage stage;
    private transient ErrorBudget.Tracker tracker;
    private transient Counter skipped;
    private transient Counter logged;
    private transient Counter deadLettered;
    private transient MetricGroup openedWith;

    public FailureHandler(ErrorPolicy policy, Stage stage) {
        this.policy = policy;
        this.stage = stage;
    }

    /**
     * Registers the metrics; call once per parallel instance before use. Another call with the same
     * group does nothing: the Kafka connector's exactly-once sink writer opens its record
     * serializer twice (in {@code KafkaWriter}'s and in {@code ExactlyOnceKafkaWriter}'s
     * constructor, with the same group), and registering again would leave the counters counting
     * into copies that Flink refused ("Name collision"), so the reported ones stayed at 0.
     */
    public void open(MetricGroup metrics) {
        if (tracker != null && metrics == openedWith) {
            return;
        }
        openedWith = metrics;
        tracker = policy.budget().newTracker();
        MetricGroup errors = metrics.addGroup("fkk").addGroup("errors");
        skipped = errors.counter("skipped");
        logged = errors.counter("logged");
        deadLettered = errors.counter("deadLettered");
    }

    public ErrorPolicy policy() {
        return policy;
    }

    /** Counts a record that went through fine (for the budget's fraction). */
    public void onSuccess() {
        if (tracker != null && !policy.budget().isUnlimited()) {
            tracker.onRecord();
        }
    }

    /**
     * Handles one failed record.
     *
     * @param where position of the record, e.g. {@code orders-3@1042}
     * @return the action the caller must carry out: {@code SKIP} (drop, already counted and logged)
     *     or {@code DEAD_LETTER} (send it); never returns for {@code FAIL}
     * @throws SuppressRestartsException for {@code fail()} and when the budget is exceeded
     */
    public ErrorPolicy.Action onFailure(String where, Throwable cause) {
        if (tracker == null) {
            open(new org.apache.flink.metrics.groups.UnregisteredMetricsGroup());
        }
        if (policy.action() == ErrorPolicy.Action.FAIL) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            "Record "
                                    + where
                                    + " failed at stage "
                                    + stage
                                    + ": "
                                    + describe(cause)
                                    + ". Set an error policy (skip, log or deadLetter) to keep the"
                                    + " job running"));
        }
        String budgetExceeded = tracker.onError(stage);
        if (budgetExceeded != null) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            budgetExceeded + "; last failure: " + describe(cause)));
        }
        switch (policy.action()) {
            case SKIP:
                skipped.inc();
                return ErrorPolicy.Action.SKIP;
            case LOG:
                logged.inc();
                // The cause's type only: parsers quote the offending input in their messages
                // (Jackson's "Unrecognized token 'secret'", Long.parseLong's "For input string").
                LOG.warn(
                        "Skipping record {} (stage {}): {} (the message is not logged: it may"
                                + " quote the record)",
                        where,
                        stage,
                        types(cause));
                return ErrorPolicy.Action.SKIP;
            case DEAD_LETTER:
            default:
                deadLettered.inc();
                return ErrorPolicy.Action.DEAD_LETTER;
        }
    }

    /** The class names of {@code cause} and its causes, e.g. {@code A caused by B}. */
    static String types(Throwable cause) {
        StringBuilder types = new StringBuilder();
        java.util.Set<Throwable> seen =
                java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable t = cause; t != null && seen.add(t); t = t.getCause()) {
            if (types.length() > 0) {
                types.append(" caused by ");
            }
            types.append(t.getClass().getName());
        }
        return types.toString();
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return (cause.getClass().getSimpleName() + message).replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
