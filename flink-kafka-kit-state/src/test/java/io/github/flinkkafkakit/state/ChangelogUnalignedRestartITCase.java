package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ExceptionUtils;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reviewer's reproduction of the loss: 200,000 records counted by a job that switches unaligned
 * checkpoints on after the changelog pipeline is built, stopped abruptly (cancelled, no savepoint)
 * after 8 completed checkpoints, then started again from Kafka alone. Before the fix the first run
 * was accepted and the restart counted 176,211 of 200,000 records (records in flight at the last
 * barrier were in Flink's checkpoint but not in the changelog). Now the first run is refused before
 * it writes anything, and the restart from Kafka counts every record once.
 *
 * <p>The same job run against the code before the fix (b25afd8) on this machine: the loss is what
 * was in flight between the positions and the state operators at the last completed checkpoint, so
 * it shows only if the job is still busy when it is cancelled. Unthrottled, a warm JVM processed
 * the 200,000 records before the 8th checkpoint (no loss); the first, cold run counted 141,437.
 * With the counting function sleeping 1 ms every 25 records: 187,133 / 190,743 / 190,654 counted
 * (32 KB network buffers) and 194,102 / 196,758 / 195,684 (8 KB buffers), while the aligned
 * control, cancelled after 8 checkpoints with 92,000–100,000 records committed, counted 200,000
 * each time.
 */
class ChangelogUnalignedRestartITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final TypeInformation<Tuple2<String, Long>> TOTALS =
            Types.TUPLE(Types.STRING, Types.LONG);

    static final int RECORDS = 200_000;
    static final int KEYS = 1_000;
    static final int PARTITIONS = 4;
    static final int PARALLELISM = 2;
    static final int CHECKPOINTS_BEFORE_THE_KILL = 8;

    private static MiniCluster flink;

    @BeforeAll
    static void startFlink() throws Exception {
        flink = ChangelogCheckpointSettingsITCase.startMiniCluster();
    }

    @AfterAll
    static void stopFlink() throws Exception {
        if (flink != null) {
            flink.close();
        }
    }

    /** The counting job; {@code unaligned}: switched on once the pipeline is complete. */
    static StreamExecutionEnvironment countJob(
            String in, String out, String state, boolean bounded, boolean unaligned) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(connection)
                        .setTopics(in)
                        .setGroupId("count-" + state)
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .setBounded(bounded)
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(state)
                        .build()
                        .pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
        job.writeOutput(totals, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        if (unaligned) {
            env.getCheckpointConfig().enableUnalignedCheckpoints();
        }
        return env;
    }

    /** What the first, unbounded run did before it ended or was cancelled. */
    record FirstRun(JobResult result, long completedCheckpoints, Duration took) {}

    /**
     * Runs the unbounded job until {@code checkpoints} checkpoints completed, then cancels it (no
     * savepoint), or until it ends by itself.
     */
    static FirstRun runUntilCheckpoints(StreamExecutionEnvironment env, int checkpoints)
            throws Exception {
        long start = System.nanoTime();
        JobID id = flink.submitJob(env.getStreamGraph()).get(1, TimeUnit.MINUTES).getJobID();
        long deadline = start + Duration.ofMinutes(2).toNanos();
        long completed = 0;
        while (System.nanoTime() < deadline) {
            if (flink.getJobStatus(id).get().isGloballyTerminalState()) {
                break;
            }
            AccessExecutionGraph graph = flink.getExecutionGraph(id).get();
            completed =
                    graph.getCheckpointStatsSnapshot()
                            .getCounts()
                            .getNumberOfCompletedCheckpoints();
            if (completed >= checkpoints) {
                flink.cancelJob(id).get(1, TimeUnit.MINUTES);
                break;
            }
            Thread.sleep(20);
        }
        JobResult result = flink.requestJobResult(id).get(2, TimeUnit.MINUTES);
        return new FirstRun(result, completed, Duration.ofNanos(System.nanoTime() - start));
    }

    /** The records counted so far: the sum of the last committed total of every key. */
    static long counted(KafkaTestClient kafka, String out) {
        return kafka.latestValuePerKey(out).values().stream().mapToLong(Long::parseLong).sum();
    }

    static String produceInput(KafkaTestClient kafka, String prefix) {
        String in = kafka.createUniqueTopic(prefix + "-in", PARTITIONS);
        try (KafkaTestClient.Batch batch = kafka.batch(in)) {
            for (int i = 0; i < RECORDS; i++) {
                batch.send("k" + (i % KEYS), "1");
            }
        }
        return in;
    }

    @Test
    void shouldRefuseTheUnalignedRunAndCountEveryRecordOnceOnTheRestartFromKafka()
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = produceInput(kafka, "unaligned-count");
        String out = KafkaTestClient.uniqueTopicName("unaligned-count-out");
        String state = KafkaTestClient.uniqueTopicName("unaligned-count-state");

        FirstRun first =
                runUntilCheckpoints(
                        countJob(in, out, state, false, true), CHECKPOINTS_BEFORE_THE_KILL);

        assertThat(first.result().isSuccess()).as("first run succeeded").isFalse();
        assertThat(first.completedCheckpoints()).as("checkpoints of the first run").isZero();
        Throwable failure =
                first.result()
                        .getSerializedThrowable()
                        .orElseThrow()
                        .deserializeError(getClass().getClassLoader());
        assertThat(ExceptionUtils.findThrowable(failure, SuppressRestartsException.class))
                .isPresent();
        assertThat(ChangelogCheckpointSettingsITCase.Outcome.rootOf(failure))
                .hasMessageContaining("unaligned checkpoints are on");
        for (String topic : List.of(out, state, state + "-positions")) {
            assertThat(kafka.endOffsets(topic, false).values())
                    .as("log end offsets of %s", topic)
                    .containsOnly(0L);
        }

        // Started again from Kafka alone, aligned, to the end of the input.
        JobResult restart =
                flink.requestJobResult(
                                flink.submitJob(
                                                countJob(in, out, state, true, false)
                                                        .getStreamGraph())
                                        .get(1, TimeUnit.MINUTES)
                                        .getJobID())
                        .get(3, TimeUnit.MINUTES);
        assertThat(restart.isSuccess()).as("restart succeeded").isTrue();
        assertThat(counted(kafka, out)).as("records counted").isEqualTo(RECORDS);
    }
}
