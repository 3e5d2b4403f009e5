package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.state.ChangelogFunction;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.Collector;

/**
 * Flink's {@code KeyedProcessOperator} with Kafka-backed state and timers (see {@link
 * KafkaStateSupport}): the function uses Flink's state API as usual. A {@link ChangelogFunction}
 * also gets its {@code onCheckpoint} calls (once per changed key, before each barrier) and its dead
 * letters.
 */
@Internal
public final class KafkaStateProcessOperator<K, IN, OUT> extends KeyedProcessOperator<K, IN, OUT> {

    private static final long serialVersionUID = 1L;

    private final KafkaStateSupport<K> support;

    private transient ChangelogStates.FlushListener onCheckpoint;

    public KafkaStateProcessOperator(
            KeyedProcessFunction<K, IN, OUT> function, KafkaStateSupport<K> support) {
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
    @SuppressWarnings("unchecked")
    public void open() throws Exception {
        support.beforeOpen();
        if (userFunction instanceof ChangelogFunction) {
            ChangelogFunction<K, IN, OUT> function = (ChangelogFunction<K, IN, OUT>) userFunction;
            function.attach(support::deadLetter);
            Collector<OUT> out =
                    new Collector<>() {
                        @Override
                        public void collect(OUT record) {
                            output.collect(new StreamRecord<>(record));
                        }

                        @Override
                        public void close() {}
                    };
            onCheckpoint = key -> function.onCheckpoint((K) key, out);
        }
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
        support.flush(onCheckpoint);
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        support.flush(onCheckpoint);
        super.finish();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        support.snapshotState(context);
    }
}
