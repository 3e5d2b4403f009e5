package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;

/**
 * Flink's {@code KeyedCoProcessOperator} (two keyed inputs, e.g. a stream joined with a table kept
 * from another topic) with Kafka-backed state and timers (see {@link KafkaStateSupport}): the
 * function uses Flink's state API as usual.
 */
@Internal
public final class KafkaStateCoProcessOperator<K, IN1, IN2, OUT>
        extends KeyedCoProcessOperator<K, IN1, IN2, OUT> {

    private static final long serialVersionUID = 1L;

    private final KafkaStateSupport<K> support;

    public KafkaStateCoProcessOperator(
            KeyedCoProcessFunction<K, IN1, IN2, OUT> function, KafkaStateSupport<K> support) {
        super(function);
        this.support = support;
    }

    public KafkaStateSupport<K> support() {
        return support;
    }

    /** Table states are written to raw keyed state; timers must not use that stream. */
    @Override
    protected boolean isUsingCustomRawKeyedState() {
        return true;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        support.initializeState(this, context, super::getInternalTimerService, output::collect);
    }

    @Override
    public void open() throws Exception {
        support.beforeOpen();
        super.open();
        support.afterOpen();
    }

    @Override
    public <KK, N> InternalTimerService<N> getInternalTimerService(
            String name, TypeSerializer<N> namespaceSerializer, Triggerable<KK, N> triggerable) {
        @SuppressWarnings("unchecked")
        Triggerable<K, N> keyed = (Triggerable<K, N>) triggerable;
        return support.timerService(name, namespaceSerializer, keyed);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        FaultPoints.reach(FaultPoints.Point.OPERATOR_SNAPSHOT);
        support.flush(null);
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        support.flush(null);
        super.finish();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        support.snapshotState(context);
    }
}
