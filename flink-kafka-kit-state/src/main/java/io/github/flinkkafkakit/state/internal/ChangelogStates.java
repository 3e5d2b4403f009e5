package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The Kafka-backed keyed state of one operator instance, and the order of its lifecycle. The
 * concerns are each in their own class: the {@link StateRegistry} of declared states and their
 * changelog names, the {@link ChangeContext} that makes a change a changelog record for the writer,
 * the {@link StateRestore} from Kafka, the {@link TableSnapshots} in Flink checkpoints, and — here
 * — the flush of every state's changes at a barrier. Flink's runtime is reached only through {@link
 * FlinkKeyedRuntime}.
 *
 * <p>The operator calls, in this order: {@link #initializeState} (from its {@code
 * initializeState}), {@link #open} (before its function opens: states are declared from then on),
 * {@link #restore} (once the function declared its states), {@link #flush} (in {@code
 * prepareSnapshotPreBarrier} and {@code finish}) and {@link #snapshotState} (from its {@code
 * snapshotState}).
 *
 * @param <K> the key type
 */
@Internal
public final class ChangelogStates<K> {

    private static final Logger LOG = LoggerFactory.getLogger(ChangelogStates.class);

    private final FlinkKeyedRuntime<K> runtime;
    private final ChangelogSettings settings;
    private final RestoreListener listener;
    private final StateRegistry<K> registry;
    private final TableSnapshots<K> tables;

    private boolean restoredFromFlink;
    private ChangeContext<K> context;
    private TtlTimers<K> ttlTimers;

    public ChangelogStates(
            FlinkKeyedRuntime<K> runtime,
            ChangelogSettings settings,
            String uid,
            RestoreListener listener) {
        this.runtime = runtime;
        this.settings = settings;
        this.listener = listener;
        this.registry = new StateRegistry<>(uid);
        this.tables = new TableSnapshots<>(runtime, settings, registry);
    }

    // ---------------------------------------------------------------- lifecycle

    /** Reads the tables a Flink checkpoint holds in the operator's raw keyed state. */
    public void initializeState(StateInitializationContext context) throws Exception {
        restoredFromFlink = context.isRestored();
        tables.read(context);
    }

    /** Checks the job and prepares for states to be declared (before the function opens). */
    public void open() {
        CheckpointSettings.check(
                runtime.jobConfiguration(), settings.guarantee(), settings.transactionTimeout());
        DeterministicKeys.check(runtime.keySerializer(), registry.scope());
        runtime.checkTimersOutOfRawKeyedState();
        context = new ChangeContext<>(runtime, settings, registry);
        ttlTimers = new TtlTimers<>(runtime);
    }

    /**
     * After the operator's function declared its states: rebuilds them from the changelog when the
     * job started without Flink state, else adopts what Flink restored.
     */
    public void restore() throws Exception {
        if (restoredFromFlink) {
            tables.adopt();
        } else {
            tables.discard();
            StateRestore<K> restore = new StateRestore<>(runtime, settings, registry, listener);
            restore.restore();
            registry.onLateDeclaration(restore::applyUndeclared);
        }
    }

    /** Whether the operator restored its state from Flink's checkpoint (not from Kafka). */
    public boolean isRestoredFromFlink() {
        return restoredFromFlink;
    }

    /** Writes the table states to the operator's raw keyed state. */
    public void snapshotState(StateSnapshotContext context) throws Exception {
        tables.write(context);
    }

    // ---------------------------------------------------------------- for the state layers

    StateRegistry<K> registry() {
        return registry;
    }

    ChangeContext<K> context() {
        return context;
    }

    TtlTimers<K> ttlTimers() {
        return ttlTimers;
    }

    TableSnapshots<K> tables() {
        return tables;
    }

    FlinkKeyedRuntime<K> runtime() {
        return runtime;
    }

    // ---------------------------------------------------------------- flush

    /** Told each key whose state changed, during {@link #flush}, with that key current. */
    @FunctionalInterface
    public interface FlushListener {
        void changed(Object key) throws Exception;
    }

    /**
     * Writes each changed key's latest values, one key at a time (one {@code setCurrentKey} per
     * key), telling {@code listener} after each key's values were written. Changes the listener
     * makes are written in the same flush, without telling it again.
     */
    @SuppressWarnings("unchecked")
    public void flush(FlushListener listener) throws Exception {
        List<ChangelogState> dirty = new ArrayList<>();
        for (ChangelogState state : registry.states()) {
            if (state.isDirty()) {
                dirty.add(state);
            }
        }
        if (dirty.isEmpty()) {
            return;
        }
        int n = dirty.size();
        Set<Object>[] changed = new Set[n];
        long[] writesBefore = new long[n];
        for (int i = 0; i < n; i++) {
            changed[i] = dirty.get(i).takeChangedKeys();
            writesBefore[i] = dirty.get(i).writes;
        }
        Set<Object> keys = changed[0];
        if (n > 1) {
            keys = new LinkedHashSet<>();
            for (Set<Object> c : changed) {
                keys.addAll(c);
            }
        }
        for (Object key : keys) {
            runtime.setCurrentKey(key);
            for (int i = 0; i < n; i++) {
                if (n == 1 || changed[i].contains(key)) {
                    dirty.get(i).flushCurrentKey(key);
                }
            }
            if (listener != null) {
                listener.changed(key);
            }
            for (int i = 0; i < n; i++) {
                dirty.get(i).endKey();
            }
        }
        for (int i = 0; i < n; i++) {
            ChangelogState state = dirty.get(i);
            context.account(state, state.writes - writesBefore[i]);
            state.endFlush();
        }
        // State that the listener changed belongs to this checkpoint as well (Flink's snapshot,
        // taken right after, holds it): write it now, without telling the listener again.
        for (ChangelogState state : registry.states()) {
            if (!state.isDirty()) {
                continue;
            }
            long before = state.writes;
            for (Object key : state.takeChangedKeys()) {
                runtime.setCurrentKey(key);
                state.flushCurrentKey(key);
                state.endKey();
            }
            context.account(state, state.writes - before);
            state.endFlush();
        }
        if (!registry.undeclaredNames().isEmpty()) {
            LOG.warn(
                    "Operator '{}' restored changelog records of states it has not declared: {}."
                            + " They are applied when the states are declared",
                    registry.scope(),
                    registry.undeclaredNames());
        }
    }
}
