package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.count.EmitPolicy;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The bounded exactly-once count job as a process of its own, for {@link CountKillRestoreITCase}:
 * checkpoints every 200 ms to {@code checkpointDir} and keeps them when the job ends abnormally
 * ({@code RETAIN_ON_CANCELLATION}), so a run killed with SIGKILL can be resumed from its latest
 * {@code chk-N} ({@code execution.state-recovery.path}). No restarts: a failure fails the run.
 *
 * <p>Arguments: {@code bootstrapServers inputTopic outputTopic checkpointDir recordsPerSecond
 * [restorePath]} ({@code recordsPerSecond} per subtask, 0 = unthrottled).
 */
public final class CountJobProcess {

    private CountJobProcess() {}

    public static void main(String[] args) throws Exception {
        run(
                args[0],
                args[1],
                args[2],
                Path.of(args[3]),
                Long.parseLong(args[4]),
                args.length > 5 ? args[5] : null,
                null);
        System.out.println("processed=" + Throttle.PROCESSED.get());
    }

    /** Runs the job to its end (bounded input); returns the records this run processed. */
    static long run(
            String bootstrapServers,
            String in,
            String out,
            Path checkpointDir,
            long recordsPerSecond,
            String restorePath,
            Until until)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (restorePath != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restorePath);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        CountExample.Settings settings =
                new CountExample.Settings(
                        in, out, "g-" + in, Guarantee.EXACTLY_ONCE, true, EmitPolicy.ON_CHECKPOINT);
        Throttle.PROCESSED.set(0);
        CountExample.buildPipeline(
                env,
                KafkaConnection.of(bootstrapServers),
                settings,
                keys -> keys.map(new Throttle(recordsPerSecond)).name("throttle"));
        if (until == null) {
            env.execute("count (killable)");
        } else {
            // Restored from a checkpoint, the bounded source finishes by itself (the kit works
            // around FLINK-31006, where the connector's restored enumerator never sends
            // NoMoreSplitsEvent); then the caller's check runs.
            env.execute("count (resumed)");
            until.await();
        }
        return Throttle.PROCESSED.get();
    }

    /** What the caller checks once the resumed run has finished. */
    interface Until {
        void await() throws Exception;
    }

    /** The newest completed checkpoint ({@code chk-N} with {@code _metadata}) under {@code dir}. */
    static Optional<Path> latestCheckpoint(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.walk(dir, 3)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata"))
                    .map(Path::getParent)
                    .filter(p -> p.getFileName().toString().startsWith("chk-"))
                    .max(
                            Comparator.comparingLong(
                                    p -> Long.parseLong(p.getFileName().toString().substring(4))));
        }
    }

    /** Passes keys on at most {@code recordsPerSecond} per subtask (0 = as fast as possible). */
    static final class Throttle extends RichMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        static final AtomicLong PROCESSED = new AtomicLong();
        private final long recordsPerSecond;
        private transient long started;
        private transient long seen;

        Throttle(long recordsPerSecond) {
            this.recordsPerSecond = recordsPerSecond;
        }

        @Override
        public void open(OpenContext openContext) {
            started = System.nanoTime();
        }

        @Override
        public String map(String key) throws InterruptedException {
            PROCESSED.incrementAndGet();
            if (recordsPerSecond > 0 && ++seen % 1000 == 0) {
                long due = started + seen * 1_000_000_000L / recordsPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            return key;
        }
    }
}
