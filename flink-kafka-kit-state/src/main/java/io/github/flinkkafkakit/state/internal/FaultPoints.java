package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A test hook: named points on the exactly-once path where a test can make the job fail, once. It
 * has no effect unless armed — by {@link #arm} (a test in the same JVM) or by the system property
 * {@value #PROPERTY}{@code =POINT:nth:ACTION} read once when this class loads (a job in a child
 * JVM). Unarmed, {@link #reach} costs one volatile read.
 *
 * <p>An armed point fires on the {@code nth} time it is reached in the JVM (all subtasks and
 * attempts together), once: it then disarms itself.
 */
@Internal
public final class FaultPoints {

    /** The system property that arms a point at class load: {@code POINT:nth:ACTION}. */
    public static final String PROPERTY = "fkk.fault";

    /** Where a fault can be injected, in the order a checkpoint passes them. */
    public enum Point {
        /**
         * A Kafka-backed operator's snapshot (before the barrier), before its state changes are
         * handed to the writer.
         */
        OPERATOR_SNAPSHOT,
        /** The writer writing a record of its open transaction. */
        WRITER_SEND,
        /**
         * The writer's {@code snapshotState}, right after the pre-commit: the transaction is
         * flushed, the checkpoint not complete.
         */
        AFTER_PRE_COMMIT,
        /**
         * The writer's {@code notifyCheckpointComplete}, before the commit: the checkpoint is
         * complete, the commit not done.
         */
        BEFORE_COMMIT,
        /**
         * Right after the commit returned, before the writer's bookkeeping: Kafka committed,
         * Flink's task has not finished the notification.
         */
        AFTER_COMMIT
    }

    /** What an armed point does when it fires. */
    public enum Action {
        /** Throws an {@link InjectedFault} naming the point. */
        THROW,
        /** Kills the JVM at once ({@code Runtime.halt(137)}): no finally, no shutdown hooks. */
        HALT
    }

    /** What {@link Action#THROW} throws. */
    public static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFault(Point point, int nth) {
            super("Injected fault at " + point + " (reached " + nth + " times)");
        }
    }

    private static final class Armed {
        final Point point;
        final int nth;
        final Action action;
        final AtomicInteger reached = new AtomicInteger();

        Armed(Point point, int nth, Action action) {
            this.point = point;
            this.nth = nth;
            this.action = action;
        }
    }

    private static final AtomicReference<Armed> ARMED = new AtomicReference<>();

    private static final AtomicIntegerArray FIRED = new AtomicIntegerArray(Point.values().length);

    static {
        String spec = System.getProperty(PROPERTY);
        if (spec != null && !spec.isBlank()) {
            arm(spec);
        }
    }

    private FaultPoints() {}

    /** Called at {@code point}: fires when that point is armed and this is its nth time. */
    public static void reach(Point point) {
        Armed armed = ARMED.get();
        if (armed == null || armed.point != point) {
            return;
        }
        int n = armed.reached.incrementAndGet();
        if (n != armed.nth) {
            return;
        }
        ARMED.compareAndSet(armed, null);
        FIRED.incrementAndGet(point.ordinal());
        if (armed.action == Action.HALT) {
            System.err.println("FaultPoints: halting the JVM at " + point + " (reached " + n + ")");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
        throw new InjectedFault(point, n);
    }

    /** Arms {@code point} to do {@code action} the {@code nth} (from 1) time it is reached. */
    public static void arm(Point point, int nth, Action action) {
        if (nth < 1) {
            throw new IllegalArgumentException("nth counts from 1: " + nth);
        }
        ARMED.set(new Armed(point, nth, action));
    }

    /**
     * Arms from a {@code POINT:nth:ACTION} spec, as the system property {@value #PROPERTY} does.
     */
    public static void arm(String spec) {
        String[] parts = spec.trim().split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException(
                    PROPERTY + " must be POINT:nth:ACTION, not '" + spec + "'");
        }
        arm(
                Point.valueOf(parts[0].trim().toUpperCase(Locale.ROOT)),
                Integer.parseInt(parts[1].trim()),
                Action.valueOf(parts[2].trim().toUpperCase(Locale.ROOT)));
    }

    /** Disarms whatever is armed (what fired stays counted). */
    public static void disarm() {
        ARMED.set(null);
    }

    /** How often {@code point} has fired in this JVM. */
    public static int fired(Point point) {
        return FIRED.get(point.ordinal());
    }

    /** How often the armed point has been reached so far (0 when none is armed). */
    public static int reached() {
        Armed armed = ARMED.get();
        return armed == null ? 0 : armed.reached.get();
    }
}
