package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ExceptionUtils;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Checkpoint settings changed after the changelog pipeline was built (on the environment or through
 * {@code env.configure(...)}) are the job's real settings: the kit operators check them when the
 * tasks start and fail the job once, with a restart strategy that would restart it, before anything
 * is written to Kafka. Before, only the pipeline's constructor checked, and a job with unaligned
 * checkpoints switched on afterwards ran and lost records on a restart from Kafka.
 */
class ChangelogCheckpointSettingsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final TypeInformation<Tuple2<String, Long>> TOTALS =
            Types.TUPLE(Types.STRING, Types.LONG);

    /** A refused job fails within this time (measured from submission). */
    static final Duration REFUSED_WITHIN = Duration.ofSeconds(30);

    /** Restarts the job would get if its failure allowed them. */
    static final int RESTART_ATTEMPTS = 3;

    /**
     * How often {@link CountOpens#open} ran, by job name. Flink loads the job's classes in its own
     * class loader, so the counters live in the JVM-wide system properties.
     */
    private static final String OPENS = "fkk.test.settings.opens";

    static {
        System.getProperties().putIfAbsent(OPENS, new ConcurrentHashMap<String, AtomicInteger>());
    }

    private static MiniCluster flink;

    @BeforeAll
    static void startFlink() throws Exception {
        flink = startMiniCluster();
    }

    @AfterAll
    static void stopFlink() throws Exception {
        if (flink != null) {
            flink.close();
        }
    }

    static MiniCluster startMiniCluster() throws Exception {
        MiniCluster cluster =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(new Configuration())
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(4)
                                .withRandomPorts()
                                .build());
        cluster.start();
        return cluster;
    }

    @SuppressWarnings("unchecked")
    static AtomicInteger opens(String job) {
        return ((Map<String, AtomicInteger>) System.getProperties().get(OPENS))
                .computeIfAbsent(job, k -> new AtomicInteger());
    }

    /** Counts its openings (one per task attempt that got as far as opening its chain). */
    static final class CountOpens<T> extends RichMapFunction<T, T> {
        private static final long serialVersionUID = 1L;
        private final String job;
        private final boolean fail;

        CountOpens(String job, boolean fail) {
            this.job = job;
            this.fail = fail;
        }

        @Override
        public void open(OpenContext context) {
            opens(job).incrementAndGet();
            if (fail) {
                throw new IllegalStateException("an ordinary failure, restarted");
            }
        }

        @Override
        public T map(T value) {
            return value;
        }
    }

    /** A totals job's topics. */
    record Topics(String in, String out, String state, String positions) {
        static Topics create(KafkaTestClient kafka, String prefix, int records) {
            String in = kafka.createUniqueTopic(prefix + "-in", 2);
            List<KeyValue<String, String>> batch = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                batch.add(KeyValue.of("k" + (i % 50), "1"));
            }
            kafka.produce(in, batch);
            String state = KafkaTestClient.uniqueTopicName(prefix + "-state");
            return new Topics(
                    in, KafkaTestClient.uniqueTopicName(prefix + "-out"), state, state + "-p");
        }
    }

    /**
     * The totals job with a restart strategy that restarts 3 times; {@code changelogSettings} tunes
     * the changelog, {@code afterBuild} changes the environment once the pipeline is complete.
     */
    static StreamExecutionEnvironment totalsJob(
            String name,
            Topics topics,
            boolean bounded,
            Consumer<KafkaChangelog.Builder> changelogSettings,
            Consumer<StreamExecutionEnvironment> afterBuild) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        // below any transaction timeout of these tests, so that the build itself accepts the job
        env.getCheckpointConfig().setCheckpointTimeout(10_000);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(connection)
                        .setTopics(topics.in())
                        .setGroupId("settings-" + topics.state())
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .setBounded(bounded)
                        .build();
        KafkaChangelog.Builder builder =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(topics.state())
                        .setPositionsTopic(topics.positions());
        changelogSettings.accept(builder);
        ChangelogPipeline<Tuple2<String, Long>> job = builder.build().pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source()
                                .map(new CountOpens<Tuple2<String, Long>>(name, false))
                                .returns(TOTALS)
                                .keyBy(t -> t.f0, Types.STRING),
                        new RunningTotal(),
                        TOTALS);
        job.writeOutput(
                totals, topics.out(), t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        afterBuild.accept(env);
        return env;
    }

    /** A finished job as the cluster saw it. */
    record Outcome(
            JobResult result, Throwable failure, ArchivedExecutionGraph graph, Duration took) {

        /** The highest attempt number of any task: 0 if no task ever ran twice. */
        int maxAttempt() {
            int max = 0;
            for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
                max = Math.max(max, v.getCurrentExecutionAttempt().getAttemptNumber());
            }
            return max;
        }

        static Throwable rootOf(Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return root;
        }
    }

    static Outcome run(MiniCluster cluster, StreamExecutionEnvironment env, String name)
            throws Exception {
        long start = System.nanoTime();
        JobID id = cluster.submitJob(env.getStreamGraph()).get(1, TimeUnit.MINUTES).getJobID();
        JobResult result = cluster.requestJobResult(id).get(2, TimeUnit.MINUTES);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        Throwable failure =
                result.getSerializedThrowable()
                        .map(
                                t ->
                                        t.deserializeError(
                                                ChangelogCheckpointSettingsITCase.class
                                                        .getClassLoader()))
                        .orElse(null);
        ArchivedExecutionGraph graph =
                cluster.getArchivedExecutionGraph(id).get(1, TimeUnit.MINUTES);
        return new Outcome(result, failure, graph, took);
    }

    static Stream<Arguments> settingsChangedAfterTheBuild() {
        Consumer<KafkaChangelog.Builder> defaults = b -> {};
        return Stream.of(
                Arguments.of(
                        "unaligned on the checkpoint config",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env -> env.getCheckpointConfig().enableUnalignedCheckpoints(),
                        "unaligned checkpoints are on"),
                Arguments.of(
                        "unaligned through env.configure",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        env.configure(
                                                Configuration.fromMap(
                                                        Map.of(
                                                                "execution.checkpointing.unaligned.enabled",
                                                                "true"))),
                        "unaligned checkpoints are on"),
                Arguments.of(
                        "at-least-once on the checkpoint config",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        env.getCheckpointConfig()
                                                .setCheckpointingConsistencyMode(
                                                        CheckpointingMode.AT_LEAST_ONCE),
                        "execution.checkpointing.mode"),
                Arguments.of(
                        "at-least-once through env.configure",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        env.configure(
                                                Configuration.fromMap(
                                                        Map.of(
                                                                "execution.checkpointing.mode",
                                                                "AT_LEAST_ONCE"))),
                        "execution.checkpointing.mode"),
                Arguments.of(
                        "checkpoint timeout at the transaction timeout",
                        (Consumer<KafkaChangelog.Builder>)
                                b -> b.setTransactionTimeout(Duration.ofSeconds(30)),
                        (Consumer<StreamExecutionEnvironment>)
                                env -> env.getCheckpointConfig().setCheckpointTimeout(60_000),
                        "(200 ms + 60000 ms), which is not below its transaction.timeout.ms"
                                + " (30000 ms)"),
                Arguments.of(
                        "checkpointing switched off",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env -> env.getCheckpointConfig().disableCheckpointing(),
                        "this job does not checkpoint"),
                Arguments.of(
                        "checkpoints after tasks finish off",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env ->
                                        env.configure(
                                                new Configuration()
                                                        .set(
                                                                CheckpointingOptions
                                                                        .ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH,
                                                                false)),
                        "checkpoints-after-tasks-finish"),
                Arguments.of(
                        "AUTOMATIC runtime mode with a bounded input",
                        defaults,
                        (Consumer<StreamExecutionEnvironment>)
                                env -> env.setRuntimeMode(RuntimeExecutionMode.AUTOMATIC),
                        "execution.runtime-mode: STREAMING"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("settingsChangedAfterTheBuild")
    void shouldFailOnceWithoutWritingWhenTheSettingsChangeAfterTheBuild(
            String scenario,
            Consumer<KafkaChangelog.Builder> changelogSettings,
            Consumer<StreamExecutionEnvironment> afterBuild,
            String expectedMessage)
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        Topics topics = Topics.create(kafka, "settings", 1_000);
        String name = "refused: " + scenario + " " + topics.state();

        // AUTOMATIC is BATCH for bounded input only
        boolean bounded = scenario.startsWith("AUTOMATIC");
        Outcome outcome =
                run(flink, totalsJob(name, topics, bounded, changelogSettings, afterBuild), name);

        assertThat(outcome.result().isSuccess()).as("job succeeded").isFalse();
        assertThat(outcome.took()).as("time to the failure").isLessThan(REFUSED_WITHIN);
        assertThat(ExceptionUtils.findThrowable(outcome.failure(), SuppressRestartsException.class))
                .as("failure suppressing restarts")
                .isPresent();
        Throwable root = Outcome.rootOf(outcome.failure());
        assertThat(root).isInstanceOf(IllegalStateException.class);
        assertThat(root.getMessage()).contains(expectedMessage).doesNotContain("\n");
        // not restarted: no task ran a second attempt, and the counting function (chained before
        // the positions operator, so opened before it) opened at most once; a task cancelled by
        // the first failure elsewhere may not have opened it at all
        assertThat(outcome.maxAttempt()).as("highest task attempt number").isZero();
        assertThat(opens(name).get())
                .as("openings of the counting function")
                .isLessThanOrEqualTo(1);
        // nothing written to Kafka: no record (not even an aborted one) in any of its topics
        for (String topic : List.of(topics.out(), topics.state(), topics.positions())) {
            assertThat(kafka.endOffsets(topic, false).values())
                    .as("log end offsets of %s", topic)
                    .containsOnly(0L);
        }
    }

    /**
     * The harness sees restarts: the same job failing with an ordinary exception is restarted 3
     * times (so attempt number 3, 4 openings).
     */
    @Test
    void shouldSeeTheRestartsOfAnOrdinaryFailure() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        Topics topics = Topics.create(kafka, "settings-control", 10);
        String name = "control " + topics.state();
        StreamExecutionEnvironment env =
                totalsJob(
                        name,
                        topics,
                        false,
                        b -> {},
                        e -> {
                            // a separate failing branch on the same input
                            e.fromData(1, 2, 3)
                                    .map(new CountOpens<Integer>(name + "-failing", true))
                                    .returns(Types.INT)
                                    .print();
                        });

        Outcome outcome = run(flink, env, name);

        assertThat(outcome.result().isSuccess()).isFalse();
        assertThat(Outcome.rootOf(outcome.failure())).hasMessage("an ordinary failure, restarted");
        assertThat(outcome.maxAttempt()).isEqualTo(RESTART_ATTEMPTS);
        assertThat(opens(name + "-failing").get()).isEqualTo(RESTART_ATTEMPTS + 1);
    }

    /** Changed between the pipeline's construction and its completion: refused at build time. */
    @Test
    void shouldRefuseUnalignedCheckpointsSwitchedOnBeforeTheOutputIsWritten() {
        KafkaTestClient kafka = KAFKA.client();
        Topics topics = Topics.create(kafka, "settings-attach", 10);
        Configuration conf = new Configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(connection)
                        .setTopics(topics.in())
                        .setGroupId("settings-" + topics.state())
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(topics.state())
                        .build()
                        .pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
        env.getCheckpointConfig().enableUnalignedCheckpoints();

        assertThatThrownBy(
                        () ->
                                job.writeOutput(
                                        totals,
                                        topics.out(),
                                        t -> t.f0,
                                        Serdes.string(),
                                        t -> t.f1,
                                        Serdes.longAsText()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("unaligned checkpoints are on");
    }
}
