package io.github.flinkkafkakit.state.internal;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.execution.SuppressRestartsException;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.apache.flink.connector.base.DeliveryGuarantee.AT_LEAST_ONCE;
import static org.apache.flink.connector.base.DeliveryGuarantee.EXACTLY_ONCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link CheckpointSettings} over a job's configuration, one setting at a time. */
class CheckpointSettingsTest {

    /** The writer's default transaction timeout. */
    private static final Duration TXN = Duration.ofMinutes(15);

    /** A job that checkpoints every second, everything else Flink's default. */
    private static Configuration checkpointing() {
        return new Configuration()
                .set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
    }

    private static String problem(Configuration job) {
        return CheckpointSettings.problem(job, EXACTLY_ONCE, TXN);
    }

    @Test
    void shouldAcceptCheckpointingWithFlinksDefaults() {
        // exactly-once, aligned, 10 min timeout + 1 s interval below 15 min
        assertThat(problem(checkpointing())).isNull();
        assertThat(CheckpointSettings.problem(checkpointing(), AT_LEAST_ONCE, TXN)).isNull();
        CheckpointSettings.check(checkpointing(), EXACTLY_ONCE, TXN);
    }

    @Test
    void shouldAcceptExplicitlyAlignedExactlyOnceStreaming() {
        Configuration job =
                checkpointing()
                        .set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING)
                        .set(
                                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                                CheckpointingMode.EXACTLY_ONCE)
                        .set(CheckpointingOptions.ENABLE_UNALIGNED, false)
                        .set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, true);
        assertThat(problem(job)).isNull();
    }

    @Test
    void shouldRefuseAJobWithoutCheckpoints() {
        assertThat(problem(new Configuration()))
                .contains("this job does not checkpoint")
                .contains("execution.checkpointing.interval");
        assertThat(
                        problem(
                                new Configuration()
                                        .set(
                                                CheckpointingOptions.CHECKPOINTING_INTERVAL,
                                                Duration.ZERO)))
                .contains("this job does not checkpoint");
        // whatever the guarantee
        assertThat(CheckpointSettings.problem(new Configuration(), AT_LEAST_ONCE, TXN))
                .contains("this job does not checkpoint");
    }

    @Test
    void shouldRefuseBatchExecutionNamingTheRuntimeMode() {
        // AUTOMATIC with only bounded sources reaches the tasks as BATCH
        String problem =
                problem(
                        checkpointing()
                                .set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH));
        assertThat(problem).contains("execution.runtime-mode").contains("BATCH");
        assertThat(problem).doesNotContain("env.enableCheckpointing");
    }

    @Test
    void shouldRefuseAtLeastOnceCheckpointsForTheExactlyOnceGuarantee() {
        Configuration job =
                checkpointing()
                        .set(
                                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                                CheckpointingMode.AT_LEAST_ONCE);
        assertThat(problem(job))
                .contains("checkpoints at-least-once")
                .contains("execution.checkpointing.mode: EXACTLY_ONCE");
        // the at-least-once guarantee takes them
        assertThat(CheckpointSettings.problem(job, AT_LEAST_ONCE, TXN)).isNull();
    }

    @Test
    void shouldRefuseUnalignedCheckpoints() {
        Configuration job = checkpointing().set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        assertThat(problem(job))
                .contains("needs aligned checkpoints")
                .contains("unaligned checkpoints are on")
                .contains("execution.checkpointing.unaligned.enabled");
        // records in flight at a barrier are lost under either guarantee
        assertThat(CheckpointSettings.problem(job, AT_LEAST_ONCE, TXN))
                .contains("unaligned checkpoints are on");
        // forced as well
        assertThat(problem(job.set(CheckpointingOptions.FORCE_UNALIGNED, true)))
                .contains("unaligned checkpoints are on");
    }

    @Test
    void shouldAcceptForcedUnalignedCheckpointsThatAreNotEnabled() {
        // Flink reads 'forced' only when unaligned checkpoints are enabled: these are aligned
        Configuration job = checkpointing().set(CheckpointingOptions.FORCE_UNALIGNED, true);
        assertThat(CheckpointingOptions.isUnalignedCheckpointEnabled(job)).isFalse();
        assertThat(problem(job)).isNull();
    }

    @Test
    void shouldAcceptUnalignedFlagsUnderAtLeastOnceCheckpoints() {
        // Flink never takes unaligned checkpoints in at-least-once mode
        Configuration job =
                checkpointing()
                        .set(
                                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                                CheckpointingMode.AT_LEAST_ONCE)
                        .set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        assertThat(CheckpointingOptions.isUnalignedCheckpointEnabled(job)).isFalse();
        assertThat(CheckpointSettings.problem(job, AT_LEAST_ONCE, TXN)).isNull();
        // and the exactly-once guarantee refuses the mode itself
        assertThat(problem(job)).contains("checkpoints at-least-once");
    }

    @Test
    void shouldRefuseCheckpointsAfterTasksFinishOff() {
        Configuration job =
                checkpointing()
                        .set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, false);
        assertThat(problem(job))
                .contains("execution.checkpointing.checkpoints-after-tasks-finish: true");
        assertThat(CheckpointSettings.problem(job, AT_LEAST_ONCE, TXN))
                .contains("checkpoints-after-tasks-finish");
    }

    @Test
    void shouldRefuseIntervalPlusTimeoutNotBelowTheTransactionTimeout() {
        Duration txn = Duration.ofSeconds(30);
        Configuration job =
                new Configuration()
                        .set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(5))
                        .set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofSeconds(25));
        assertThat(CheckpointSettings.problem(job, EXACTLY_ONCE, txn))
                .isEqualTo(
                        "The changelog writer's transaction stays open for up to the checkpoint"
                                + " interval plus the checkpoint timeout (5000 ms + 25000 ms),"
                                + " which is not below its transaction.timeout.ms (30000 ms):"
                                + " Kafka would abort a slow checkpoint's transaction. Lower"
                                + " execution.checkpointing.timeout, or raise the transaction"
                                + " timeout with KafkaChangelog.Builder#setTransactionTimeout (up"
                                + " to the broker's transaction.max.timeout.ms)");
        // 1 ms below: accepted
        job.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMillis(24_999));
        assertThat(CheckpointSettings.problem(job, EXACTLY_ONCE, txn)).isNull();
        // Flink's default timeout (10 min) against a 10 min transaction timeout
        assertThat(
                        CheckpointSettings.problem(
                                checkpointing(), EXACTLY_ONCE, Duration.ofMinutes(10)))
                .contains("(1000 ms + 600000 ms)");
        // no transaction under the at-least-once guarantee
        assertThat(
                        CheckpointSettings.problem(
                                checkpointing(), AT_LEAST_ONCE, Duration.ofSeconds(1)))
                .isNull();
    }

    @Test
    void shouldFailWithoutRestartsNamingTheProblemOnOneLine() {
        Configuration job = checkpointing().set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        assertThatThrownBy(() -> CheckpointSettings.check(job, EXACTLY_ONCE, TXN))
                .isInstanceOf(SuppressRestartsException.class)
                .cause()
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(problem(job));
        for (Configuration refused :
                new Configuration[] {
                    new Configuration(),
                    checkpointing().set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH),
                    checkpointing()
                            .set(
                                    CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                                    CheckpointingMode.AT_LEAST_ONCE),
                    job,
                    checkpointing()
                            .set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, false),
                    checkpointing()
                            .set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofHours(1))
                }) {
            assertThat(problem(refused)).isNotBlank().doesNotContain("\n");
        }
    }
}
