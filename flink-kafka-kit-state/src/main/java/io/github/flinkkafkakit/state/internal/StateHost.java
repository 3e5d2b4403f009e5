package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.metrics.groups.OperatorMetricGroup;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.streaming.api.operators.Triggerable;

/**
 * What {@link ChangelogStates} needs from the keyed operator it serves: the operator's keyed state
 * backend, current key, runtime context, timers and the side output to the changelog writer. Each
 * of the kit's Kafka-state operators (a subclass of one of Flink's keyed operators) implements it
 * by forwarding to the protected methods of {@code AbstractStreamOperator}.
 *
 * @param <K> the key type
 */
@Internal
public interface StateHost<K> {

    KeyedStateBackend<K> keyedStateBackend();

    void setCurrentKey(Object key);

    Object getCurrentKey();

    StreamingRuntimeContext runtimeContext();

    OperatorMetricGroup metricGroup();

    /** The current processing time of the operator's task. */
    long currentProcessingTime();

    /** A timer service of the operator, as Flink made it (not the one the function sees). */
    <N> InternalTimerService<N> flinkTimerService(
            String name, TypeSerializer<N> namespaceSerializer, Triggerable<K, N> triggerable);

    /** Sends a record to the changelog writer (the operator's writes side output). */
    void write(KafkaWrite write);
}
