package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.io.Serializable;

/**
 * What makes one of Flink's keyed operators Kafka-backed: the kit's operators (a subclass of {@code
 * KeyedProcessOperator}, {@code KeyedCoProcessOperator}, …) each own one and forward their
 * lifecycle to it. It installs the {@link ChangelogKeyedStateStore} the operator's function gets
 * its state from, logs the operator's timers ({@link ChangelogTimers}), and runs the {@link
 * ChangelogStates}: restore at open, flush before each barrier, raw keyed state at snapshots.
 *
 * <p>It reaches Flink's runtime only through {@link FlinkKeyedRuntime}, which {@code
 * FlinkKeyedRuntimeTest} pins.
 *
 * @param <K> the key type
 */
@Internal
public final class KafkaStateSupport<K> implements Serializable {

    private static final long serialVersionUID = 1L;

    private final ChangelogSettings settings;
    private final String uid;
    private final OutputTag<KafkaWrite> writesTag;

    /** The dead-letter topic of the job's sources, or null. */
    private final String deadLetterTopic;

    private final RestoreListener listener;

    /** Set when the job's changelog writer exists (the job was completed with its writer). */
    private boolean writerAttached;

    private transient FlinkKeyedRuntime<K> runtime;
    private transient ChangelogStates<K> states;
    private transient ChangelogTimers<K> timers;

    /** Emits to the operator's side output to the writer. */
    @FunctionalInterface
    public interface WriteOutput {
        void emit(OutputTag<KafkaWrite> tag, StreamRecord<KafkaWrite> record);
    }

    public KafkaStateSupport(
            ChangelogSettings settings,
            String uid,
            OutputTag<KafkaWrite> writesTag,
            String deadLetterTopic,
            RestoreListener listener) {
        this.settings = settings;
        this.uid = uid;
        this.writesTag = writesTag;
        this.deadLetterTopic = deadLetterTopic;
        this.listener = listener;
    }

    /** The job was completed with its changelog writer. */
    public void writerAttached() {
        this.writerAttached = true;
    }

    public String uid() {
        return uid;
    }

    /** From the operator's {@code initializeState}, after Flink's. */
    public void initializeState(
            AbstractStreamOperator<?> operator,
            StateInitializationContext context,
            FlinkKeyedRuntime.FlinkTimers<K> flinkTimers,
            WriteOutput writes)
            throws Exception {
        this.runtime =
                new FlinkKeyedRuntime<>(
                        operator,
                        flinkTimers,
                        write -> writes.emit(writesTag, new StreamRecord<>(write)));
        this.states = new ChangelogStates<>(runtime, settings, uid, listener);
        states.initializeState(context);
    }

    /** From the operator's {@code open}, before its function opens. */
    public void beforeOpen() {
        if (!writerAttached) {
            throw new org.apache.flink.runtime.execution.SuppressRestartsException(
                    new IllegalStateException(
                            "Kafka-backed operator '"
                                    + uid
                                    + "' runs in a job without its changelog writer: complete the"
                                    + " job with KafkaStateJob.execute(...) or attach() before"
                                    + " env.execute(...)"));
        }
        states.open();
        timers = new ChangelogTimers<>(states.registry(), states.context());
        runtime.installKeyedStateStore(
                (flink, serializers) ->
                        new ChangelogKeyedStateStore(flink, states, serializers, uid));
    }

    /** From the operator's {@code open}, after it and its function opened. */
    public void afterOpen() throws Exception {
        states.restore();
    }

    /** From the operator's {@code prepareSnapshotPreBarrier} and {@code finish}. */
    public void flush(ChangelogStates.FlushListener listener) throws Exception {
        states.flush(listener);
    }

    /** From the operator's {@code snapshotState}, after Flink's. */
    public void snapshotState(StateSnapshotContext context) throws Exception {
        states.snapshotState(context);
    }

    /**
     * From the operator's {@code getInternalTimerService}: the timer service its function uses,
     * whose timers are logged to the changelog (and restored from it).
     */
    public <N> InternalTimerService<N> timerService(
            String name, TypeSerializer<N> namespaceSerializer, Triggerable<K, N> triggerable) {
        return timers.service(name, namespaceSerializer, triggerable);
    }

    /** Sends a dead letter through the changelog writer. */
    public void deadLetter(DeadLetter letter) {
        if (deadLetterTopic == null) {
            throw new IllegalStateException(
                    "deadLetter(...) needs a dead-letter topic: give the source"
                            + " ErrorPolicy.deadLetter(topic)");
        }
        runtime.write(KafkaWrite.deadLetter(deadLetterTopic, letter));
    }

    public boolean isRestoredFromFlink() {
        return states.isRestoredFromFlink();
    }
}
