package io.github.flinkkafkakit.examples;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.DetachedJobExecutionResult;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;

/**
 * The Flink environment every example runs in: local when started with {@code java -jar}, the
 * cluster's when started with {@code flink run}. Checkpointing follows {@code --guarantee} and
 * {@code --checkpoint-interval}.
 *
 * <p>Restarts: a local run restarts at most 3 times (1 s apart) and then fails, instead of
 * restarting forever. On a cluster the job sets no restart strategy and the cluster's configuration
 * ({@code restart-strategy.*} in its {@code config.yaml}) applies: when a TaskManager dies, Flink
 * keeps deploying the restarted tasks to it until its heartbeat fails (10–20 s with Flink's
 * defaults), so 3 attempts 1 s apart would be used up before a replacement registers and the job
 * would fail for good ({@code ClusterTaskManagerKillJarTest}). The cluster's operator knows how
 * long its failures take to heal; the job does not.
 *
 * <p>A broker that goes away and comes back (crash, restart) does not need these restarts: the
 * Kafka clients wait for it (the producer up to {@code max.block.ms}, 60 s, per blocked call), so
 * an outage of some seconds costs no restart and one of about 1.5 min costs one (measured by {@code
 * BrokerRestartITCase}: SIGKILL, ~25 s until the broker answers again, 0 restarts, exact counts).
 * Each restart during an outage again waits for the broker, so 3 attempts cover several minutes.
 * Permanent problems at start (unreachable broker, wrong credentials) never get here: the preflight
 * checks fail before the job is submitted.
 */
final class JobEnvironment {

    /** Restarts of a local run (1 s apart); a cluster's own configuration decides there. */
    static final int RESTART_ATTEMPTS = 3;

    private JobEnvironment() {}

    /**
     * The largest {@code --parallelism} of a local run (embedded broker or {@code
     * --bootstrap-servers} without {@code flink run}), where every subtask of every operator is a
     * thread of this JVM; a cluster takes any parallelism.
     */
    static final int MAX_LOCAL_PARALLELISM = 64;

    /** Flink's network buffer size (its default, {@code taskmanager.memory.segment-size}). */
    private static final long BUFFER_BYTES = 32 * 1024;

    /** Port of Flink's web dashboard with {@code --web-ui}. */
    static final int WEB_UI_PORT = 8081;

    static StreamExecutionEnvironment create(
            int parallelism, Guarantee guarantee, Duration checkpointInterval) {
        return create(parallelism, guarantee, checkpointInterval, false);
    }

    /**
     * @param webUi serve Flink's web dashboard on {@link #WEB_UI_PORT} (local runs only; a cluster
     *     has its own)
     */
    static StreamExecutionEnvironment create(
            int parallelism, Guarantee guarantee, Duration checkpointInterval, boolean webUi) {
        Configuration conf = new Configuration();
        // No Kryo: every type in the examples has proper TypeInformation.
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        if (runsLocally()) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
            conf.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofSeconds(1));
            MemorySize network = localNetworkMemory(parallelism);
            conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, network);
            conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, network);
        }
        StreamExecutionEnvironment env;
        if (webUi) {
            conf.set(RestOptions.PORT, WEB_UI_PORT);
            env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        } else {
            env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        }
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointInterval.toMillis(), guarantee.checkpointingMode());
        return env;
    }

    /**
     * Whether {@code env.execute} only submitted the job ({@code flink run -d}): the job still runs
     * on the cluster, so nothing that needs it finished (final offsets, results) can be done yet.
     */
    static boolean detached(JobExecutionResult result) {
        return result instanceof DetachedJobExecutionResult || !result.isJobExecutionResult();
    }

    /** {@code "<example>: submitted as job <id>"}, printed instead of "finished" when detached. */
    static String submittedMessage(String example, JobExecutionResult result) {
        return example + ": submitted as job " + result.getJobID();
    }

    /**
     * True unless this runs inside {@code flink run} (which provides the cluster's environment).
     */
    static boolean runsLocally() {
        return StreamExecutionEnvironment.getExecutionEnvironment()
                instanceof LocalStreamEnvironment;
    }

    /**
     * Network memory of a local run at {@code parallelism}: each subtask writing to a keyed
     * exchange needs a buffer per receiving subtask (plus one), so the need grows with the square
     * of the parallelism; with Flink's local default of 64 MiB {@code count} ran at 32 and failed
     * at 64 (the examples have up to two such exchanges and a few small ones). Never below that
     * default.
     */
    static MemorySize localNetworkMemory(int parallelism) {
        long buffers = 2L * parallelism * (parallelism + 1) + 1024;
        return MemorySize.ofMebiBytes(Math.max(64, buffers * BUFFER_BYTES >> 20));
    }
}
