package io.github.flinkkafkakit.examples;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;

/**
 * The Flink environment every example runs in: local when started with {@code java -jar}, the
 * cluster's when started with {@code flink run}. Checkpointing follows {@code --guarantee} and
 * {@code --checkpoint-interval}; a failing job restarts at most 3 times (1 s apart) and then fails,
 * instead of restarting forever.
 */
final class JobEnvironment {

    static final int RESTART_ATTEMPTS = 3;

    private JobEnvironment() {}

    static StreamExecutionEnvironment create(
            int parallelism, Guarantee guarantee, Duration checkpointInterval) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
        // No Kryo: every type in the examples has proper TypeInformation.
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointInterval.toMillis(), guarantee.checkpointingMode());
        return env;
    }
}
