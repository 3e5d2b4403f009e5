package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.execution.SuppressRestartsException;

import java.time.Duration;

/**
 * Checks the checkpointing a job with Kafka changelog state really runs with: the job's final
 * configuration as its tasks get it, whether set on the environment before or after the pipeline
 * was built, through {@code env.configure(...)} or by the cluster's configuration. A job that does
 * not qualify fails at start, once (no restarts), with one line naming the setting:
 *
 * <ul>
 *   <li>checkpointing on, in STREAMING execution: the state is written at checkpoints;
 *   <li>exactly-once checkpointing, for the exactly-once guarantee: at-least-once barriers let
 *       records of the next checkpoint into the current one;
 *   <li>aligned barriers: with unaligned checkpoints, records in flight at a barrier are in the
 *       Flink checkpoint, not in the changelog, so a restart from Kafka loses them;
 *   <li>the checkpoint timeout plus the interval below the writer's {@code transaction.timeout.ms}
 *       (exactly-once): a transaction stays open from the first write after one barrier until the
 *       next checkpoint completes; a longer one would be aborted by Kafka.
 * </ul>
 */
@Internal
public final class CheckpointSettings {

    private CheckpointSettings() {}

    /**
     * @throws SuppressRestartsException naming what does not qualify and the fix
     */
    public static void check(
            ReadableConfig job, DeliveryGuarantee guarantee, Duration transactionTimeout) {
        String problem = problem(job, guarantee, transactionTimeout);
        if (problem != null) {
            throw new SuppressRestartsException(new IllegalStateException(problem));
        }
    }

    /** What does not qualify, or null. */
    public static String problem(
            ReadableConfig job, DeliveryGuarantee guarantee, Duration transactionTimeout) {
        if (job.get(ExecutionOptions.RUNTIME_MODE) == RuntimeExecutionMode.BATCH) {
            // AUTOMATIC with only bounded sources reaches the tasks as BATCH as well
            return "Kafka changelog state is written at checkpoints, and this job runs in BATCH"
                    + " execution mode, which does not checkpoint (execution.runtime-mode: BATCH,"
                    + " or AUTOMATIC with only bounded sources): set execution.runtime-mode:"
                    + " STREAMING";
        }
        boolean enabled =
                job.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL)
                        .map(interval -> interval.toMillis() > 0)
                        .orElse(false);
        if (!enabled) {
            return "Kafka changelog state is written at checkpoints, and this job does not"
                    + " checkpoint: call env.enableCheckpointing(...) or set"
                    + " execution.checkpointing.interval";
        }
        boolean exactlyOnce =
                job.get(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE)
                        == CheckpointingMode.EXACTLY_ONCE;
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE && !exactlyOnce) {
            return "Exactly-once Kafka changelog state needs exactly-once checkpoints, and this"
                    + " job checkpoints at-least-once: set execution.checkpointing.mode:"
                    + " EXACTLY_ONCE (or use the changelog's AT_LEAST_ONCE guarantee)";
        }
        // As Flink decides (CheckpointingOptions#isUnalignedCheckpointEnabled): 'forced' only
        // matters once unaligned checkpoints are enabled; alone, the barriers stay aligned.
        if (exactlyOnce && job.get(CheckpointingOptions.ENABLE_UNALIGNED)) {
            return "Kafka changelog state needs aligned checkpoints, and unaligned checkpoints are"
                    + " on for this job (execution.checkpointing.unaligned.enabled, from the job,"
                    + " env.configure(...) or the cluster's configuration): records in flight at"
                    + " a barrier would be in Flink's checkpoint but not in Kafka. Turn unaligned"
                    + " checkpoints off for this job";
        }
        if (!job.get(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH)) {
            return "Kafka changelog state commits the last records of a bounded input with a"
                    + " checkpoint after the tasks finished, and this job turns those off: set"
                    + " execution.checkpointing.checkpoints-after-tasks-finish: true";
        }
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            Duration interval = job.get(CheckpointingOptions.CHECKPOINTING_INTERVAL);
            Duration timeout = job.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT);
            if (interval.plus(timeout).compareTo(transactionTimeout) >= 0) {
                return String.format(
                        "The changelog writer's transaction stays open for up to the checkpoint"
                                + " interval plus the checkpoint timeout (%d ms + %d ms), which"
                                + " is not below its transaction.timeout.ms (%d ms): Kafka would"
                                + " abort a slow checkpoint's transaction. Lower"
                                + " execution.checkpointing.timeout, or raise the transaction"
                                + " timeout with KafkaChangelog.Builder#setTransactionTimeout (up"
                                + " to the broker's transaction.max.timeout.ms)",
                        interval.toMillis(), timeout.toMillis(), transactionTimeout.toMillis());
            }
        }
        return null;
    }
}
