package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;

import java.util.ArrayList;
import java.util.List;

/**
 * The processing-time timers that expire the operator's {@link TtlValueState}s: one Flink timer
 * service of the operator, not logged to the changelog (a value restored from it re-arms its own).
 *
 * @param <K> the key type
 */
@Internal
final class TtlTimers<K> implements Triggerable<K, VoidNamespace> {

    private final FlinkKeyedRuntime<K> runtime;
    private final InternalTimerService<VoidNamespace> service;
    private final List<TtlValueState<?>> states = new ArrayList<>();

    TtlTimers(FlinkKeyedRuntime<K> runtime) {
        this.runtime = runtime;
        this.service =
                runtime.flinkTimerService(
                        "fkk-changelog-ttl", VoidNamespaceSerializer.INSTANCE, this);
    }

    void add(TtlValueState<?> state) {
        states.add(state);
    }

    long now() {
        return runtime.processingTime();
    }

    /** A timer for the current key at {@code time}. */
    void register(long time) {
        service.registerProcessingTimeTimer(VoidNamespace.INSTANCE, time);
    }

    @Override
    public void onEventTime(InternalTimer<K, VoidNamespace> timer) {}

    /** Expires TTL states of the timer's key (the timer service sets it as current key). */
    @Override
    public void onProcessingTime(InternalTimer<K, VoidNamespace> timer) throws Exception {
        for (TtlValueState<?> state : states) {
            state.onTimer(timer.getTimestamp());
        }
    }
}
