package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.internal.RawKeyedStateTimers;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.SerializerFactory;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.metrics.groups.OperatorMetricGroup;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.DefaultKeyedStateStore;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.KeyGroupStatePartitionStreamProvider;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.KeyedStateCheckpointOutputStream;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.InternalTimerServiceImpl;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.streaming.api.operators.Triggerable;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The one place the kit reaches into Flink's runtime for Kafka-backed state: everything the state
 * layers need from the keyed operator they serve goes through here — its keyed state backend (kind,
 * current key and key group, keys of a state), its task (parallelism, key groups, job), its timer
 * services, its raw keyed state (the tables' snapshots), the keyed state store its function sees,
 * and its side output to the changelog writer.
 *
 * <p>What it relies on, beyond Flink's public API, is pinned by {@code FlinkKeyedRuntimeTest}:
 * {@code StreamingRuntimeContext.setKeyedStateStore} before the function opens is what the
 * function's state getters use; a keyed operator's function timers come from the operator's
 * (overridable) {@code getInternalTimerService}, and on the heap backend its timer counts change
 * exactly when a timer is added or removed; the heap and RocksDB backends are {@code
 * AbstractKeyedStateBackend}s that keep the current key group, computed as {@code
 * KeyGroupRangeAssignment} does; raw keyed state written per key group comes back per key group.
 *
 * @param <K> the key type
 */
@Internal
public final class FlinkKeyedRuntime<K> {

    /** Flink's own {@code getInternalTimerService} of the operator. */
    @FunctionalInterface
    public interface FlinkTimers<K> {
        <N> InternalTimerService<N> get(
                String name, TypeSerializer<N> namespaceSerializer, Triggerable<K, N> triggerable);
    }

    /** Reads one key group of raw keyed state. */
    @FunctionalInterface
    interface KeyGroupReader {
        void read(int keyGroup, DataInputView in) throws Exception;
    }

    /** Writes one key group of raw keyed state. */
    @FunctionalInterface
    interface KeyGroupWriter {
        void write(int keyGroup, DataOutputView out) throws Exception;
    }

    private final AbstractStreamOperator<?> operator;
    private final FlinkTimers<K> timers;
    private final Consumer<KafkaWrite> writes;

    /**
     * The backend as the current key group's keeper (heap and RocksDB backends are), or null: also
     * sets a restored key with the key group the changelog record carries.
     */
    private final AbstractKeyedStateBackend<K> keyContext;

    @SuppressWarnings("unchecked")
    public FlinkKeyedRuntime(
            AbstractStreamOperator<?> operator,
            FlinkTimers<K> timers,
            Consumer<KafkaWrite> writes) {
        this.operator = operator;
        this.timers = timers;
        this.writes = writes;
        KeyedStateBackend<K> backend = operator.getKeyedStateBackend();
        this.keyContext =
                backend instanceof AbstractKeyedStateBackend
                        ? (AbstractKeyedStateBackend<K>) backend
                        : null;
    }

    // ---------------------------------------------------------------- keyed state backend

    @SuppressWarnings("unchecked")
    TypeSerializer<K> keySerializer() {
        return (TypeSerializer<K>) operator.getKeyedStateBackend().getKeySerializer();
    }

    /** Whether state lives in Flink's heap backend (where a table holds it more compactly). */
    boolean isHeapBackend() {
        return operator.getKeyedStateBackend() instanceof HeapKeyedStateBackend;
    }

    /** Fails when Flink would write timers to the raw keyed state the tables use. */
    void checkTimersOutOfRawKeyedState() {
        RawKeyedStateTimers.check(operator.getKeyedStateBackend(), "Kafka-backed state");
    }

    void setCurrentKey(Object key) {
        operator.setCurrentKey(key);
    }

    /** Sets a key whose key group is known (a restored record carries it): no hash computed. */
    void setCurrentKeyAndKeyGroup(K key, int keyGroup) {
        if (keyContext != null) {
            keyContext.setCurrentKeyAndKeyGroup(key, keyGroup);
        } else {
            operator.setCurrentKey(key);
        }
    }

    Object currentKey() {
        return operator.getCurrentKey();
    }

    /** The key group of the current key (what the backend computed in setCurrentKey). */
    int currentKeyGroup() {
        return keyContext != null
                ? keyContext.getCurrentKeyGroupIndex()
                : KeyGroupRangeAssignment.assignToKeyGroup(currentKey(), maxParallelism());
    }

    /** Copies of the keys that have a value in Flink's state {@code stateName}. */
    List<K> keysOf(String stateName) {
        TypeSerializer<K> serializer = keySerializer();
        KeyedStateBackend<K> backend = operator.getKeyedStateBackend();
        List<K> keys = new ArrayList<>();
        backend.getKeys(stateName, VoidNamespace.INSTANCE)
                .forEach(key -> keys.add(serializer.copy(key)));
        return keys;
    }

    /**
     * Installs the keyed state store the operator's function gets its state from (call before the
     * function opens): {@code wrap} gets Flink's own store of the operator.
     */
    void installKeyedStateStore(StoreWrapper wrap) {
        StreamingRuntimeContext context = operator.getRuntimeContext();
        KeyedStateStore flink =
                new DefaultKeyedStateStore(
                        operator.getKeyedStateBackend(), context::createSerializer);
        context.setKeyedStateStore(wrap.wrap(flink, context::createSerializer));
    }

    /** Wraps Flink's keyed state store of the operator. */
    @FunctionalInterface
    interface StoreWrapper {
        KeyedStateStore wrap(KeyedStateStore flink, SerializerFactory serializers);
    }

    // ---------------------------------------------------------------- task

    int maxParallelism() {
        return operator.getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
    }

    int subtask() {
        return operator.getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    }

    /** The key groups of this subtask. */
    KeyGroupRange keyGroupRange() {
        return KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                maxParallelism(),
                operator.getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks(),
                subtask());
    }

    String jobId() {
        return operator.getRuntimeContext().getJobInfo().getJobId().toString();
    }

    Configuration jobConfiguration() {
        return operator.getRuntimeContext().getJobConfiguration();
    }

    OperatorMetricGroup metricGroup() {
        return operator.getMetricGroup();
    }

    // ---------------------------------------------------------------- time and timers

    /** The current processing time of the operator's task. */
    long processingTime() {
        return operator.getProcessingTimeService().getCurrentProcessingTime();
    }

    /** A timer service of the operator, as Flink makes it (not the one the function sees). */
    <N> InternalTimerService<N> flinkTimerService(
            String name, TypeSerializer<N> namespaceSerializer, Triggerable<K, N> triggerable) {
        return timers.get(name, namespaceSerializer, triggerable);
    }

    /** Counts the timers of one kind a timer service holds. */
    @FunctionalInterface
    interface TimerCount {
        int count(boolean eventTime);
    }

    /**
     * How many timers {@code service} (one of {@link #flinkTimerService}) holds, or null where
     * counting them is not known to be cheap. On the heap backend Flink's timer service keeps each
     * kind in a heap priority queue set whose size is a field; on RocksDB counting may read the
     * store, and other services (batch execution) do not count.
     */
    TimerCount timerCount(InternalTimerService<?> service) {
        if (isHeapBackend() && service instanceof InternalTimerServiceImpl) {
            InternalTimerServiceImpl<?, ?> flink = (InternalTimerServiceImpl<?, ?>) service;
            return eventTime ->
                    eventTime ? flink.numEventTimeTimers() : flink.numProcessingTimeTimers();
        }
        return null;
    }

    // ---------------------------------------------------------------- raw keyed state

    /** Reads the raw keyed state a Flink checkpoint holds, key group by key group. */
    static void readRawKeyedState(StateInitializationContext context, KeyGroupReader reader)
            throws Exception {
        for (KeyGroupStatePartitionStreamProvider partition : context.getRawKeyedStateInputs()) {
            try (InputStream stream = partition.getStream()) {
                reader.read(partition.getKeyGroupId(), new DataInputViewStreamWrapper(stream));
            }
        }
    }

    /** Writes raw keyed state for a checkpoint, each key group of this subtask in turn. */
    static void writeRawKeyedState(StateSnapshotContext context, KeyGroupWriter writer)
            throws Exception {
        KeyedStateCheckpointOutputStream stream = context.getRawKeyedOperatorStateOutput();
        DataOutputViewStreamWrapper out = new DataOutputViewStreamWrapper(stream);
        for (int keyGroup : stream.getKeyGroupList()) {
            stream.startNewKeyGroup(keyGroup);
            writer.write(keyGroup, out);
        }
    }

    // ---------------------------------------------------------------- output

    /** Sends a record to the changelog writer (the operator's side output to it). */
    void write(KafkaWrite write) {
        writes.accept(write);
    }
}
