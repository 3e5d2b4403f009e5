package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.CheckpointConfig;

import java.time.Duration;

/**
 * Writes a stream of {@link DeadLetter}s to their topic with a {@link KafkaOut}: original key,
 * value and headers plus the {@code __fkk.errors.*} context headers; exactly-once when the job
 * checkpoints exactly-once, else at-least-once; the topic is created with one partition if missing.
 * A dead letter larger than the producer and topic accept (the failed record was near the limit and
 * the context headers pushed it over) is cut to fit by {@link DeadLetter#fitInto}, never a failure.
 * Shared by the source ({@code DESERIALIZE}) and {@code Guard} ({@code PROCESS}).
 */
@Internal
public final class DeadLetterSink {

    private DeadLetterSink() {}

    /**
     * Adds the dead-letter sink.
     *
     * @param uid operator uid of the sink, {@code null} for {@link KafkaOut}'s default
     */
    public static void write(
            DataStream<DeadLetter> letters,
            KafkaConnection connection,
            String topic,
            String transactionalIdPrefix,
            boolean preflight,
            Duration preflightTimeout,
            String uid) {
        CheckpointConfig checkpoints = letters.getExecutionEnvironment().getCheckpointConfig();
        boolean exactlyOnce =
                checkpoints.isCheckpointingEnabled()
                        && checkpoints.getCheckpointingConsistencyMode()
                                == CheckpointingMode.EXACTLY_ONCE;
        KafkaOut.Builder<DeadLetter> out = KafkaOut.<DeadLetter>builder();
        if (uid != null) {
            out.setUid(uid);
        }
        out.setConnection(connection)
                .setTopic(topic)
                .setKey(d -> d.key, Serdes.bytes())
                .setValue(d -> d.value, Serdes.bytes())
                .setHeaders(DeadLetter::writeHeaders)
                .setDeliveryGuarantee(
                        exactlyOnce
                                ? DeliveryGuarantee.EXACTLY_ONCE
                                : DeliveryGuarantee.AT_LEAST_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setAutoCreateTopic(1)
                .setPreflight(preflight)
                .setPreflightTimeout(preflightTimeout)
                .build()
                .writeTo(letters);
    }
}
