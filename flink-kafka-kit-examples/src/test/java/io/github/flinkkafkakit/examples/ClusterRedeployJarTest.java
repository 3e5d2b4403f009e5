package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.FlinkSessionCluster;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka-state examples' job jar on a real Flink standalone session cluster (a JobManager and
 * two TaskManagers of 2 slots, separate JVMs, {@code flink run -d}), redeployed the hard way: a
 * bounded run at parallelism 1, more input, an unbounded run at parallelism 2 whose TaskManagers
 * are all SIGKILLed once it has committed progress of its own, the job cancelled so that its Flink
 * checkpoints are of no use, then fresh TaskManagers, more input and a new submission at
 * parallelism 3 with no checkpoint or savepoint: it restores from Kafka alone, in the TaskManagers'
 * user-code class loaders.
 *
 * <ul>
 *   <li>{@code enrich} (two sources, map state and event-time timers): killed once it has committed
 *       clicks still waiting for the watermark; every click must be in the committed output exactly
 *       once with the profile version in effect at its time, every malformed and late record in the
 *       dead-letter topic once.
 *   <li>{@code stateful-total} (a {@code ValueState<Long>} with String keys: the kit's tables,
 *       restored on its fetch threads): killed once it has committed totals of the second run's
 *       input, just after 5,000 more deposits were written; every account's committed totals are
 *       prefix sums of its deposits at strictly increasing positions, the last one exact, every
 *       invalid deposit dead-lettered once.
 * </ul>
 *
 * <p>Runs after {@code package} (verify phase): it needs {@code
 * target/flink-kafka-kit-examples-job.jar}. Appends a row per job to {@code
 * target/reliability/results.jsonl}. {@code -Dfkk.cluster.keep=true} keeps the cluster's logs;
 * {@code -Dfkk.enrich.scale=N} writes N times enrich's input (35,000 clicks and 3,500 profile
 * versions at 1).
 */
class ClusterRedeployJarTest {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long ENRICH_SEED = 21;
    private static final long TOTAL_SEED = 23;
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
    private static final int SCALE = Integer.getInteger("fkk.enrich.scale", 1);

    /** Shared by the tests: each leaves it with two fresh TaskManagers. */
    private static FlinkSessionCluster cluster;

    private static Path jar;

    @BeforeAll
    static void startCluster() {
        jar = ExampleRun.packagedJobJar();
        cluster =
                FlinkSessionCluster.builder()
                        .taskManagers(2)
                        .slotsPerTaskManager(2)
                        .keepDirectory(Boolean.getBoolean("fkk.cluster.keep"))
                        .start();
        note("cluster up at " + cluster.restUrl() + " (" + cluster.directory() + ")");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void enrichGivesEveryClickOnceAfterTheClusterLosesTheJobAndItIsSubmittedAgain()
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        EnrichTopics topics = EnrichTopics.create(kafka, KAFKA.bootstrapServers(), "cluster-");
        EnrichData data = new EnrichData(ENRICH_SEED);

        topics.write(data, kafka, 10_000 * SCALE);
        runBounded(topics.args("--parallelism", "1", "--bounded"));
        topics.write(data, kafka, 20_000 * SCALE);
        int before = EnrichKillITCase.waitingClickRecords(kafka, topics.state());
        int waitingAtKill =
                killWhen(
                        topics.args("--parallelism", "2"),
                        () -> {
                            int now = EnrichKillITCase.waitingClickRecords(kafka, topics.state());
                            return now > before + 100 ? now : null;
                        });
        topics.write(data, kafka, 5_000 * SCALE);
        runBounded(topics.args("--parallelism", "3", "--bounded"));

        EnrichData.Verdict v = data.check(kafka, topics.out(), topics.dlq());
        long expectedLetters = v.malformed + v.lateDeadLetters;
        ReliabilityResult.of(
                        ReliabilityScenario.ENRICH_CLUSTER_REDEPLOY,
                        "enrich on Kafka changelog state, job jar on a session cluster: p=1"
                                + " bounded, p=2 with every TaskManager SIGKILLed and the job"
                                + " cancelled, then a new submission at p=3 restored from Kafka"
                                + " alone")
                .recordsIn(v.clicks)
                .lost(v.missing + Math.max(0, expectedLetters - v.deadLetters))
                .duplicated(
                        v.duplicated
                                + v.wrong
                                + v.unexpected
                                + Math.max(0, v.deadLetters - expectedLetters))
                .restarts(1)
                .deadLetters(v.deadLetters)
                .seed(ENRICH_SEED)
                .detail(
                        String.format(
                                "killed with %,d committed changelog records of waiting clicks;"
                                        + " %s",
                                waitingAtKill, v))
                .verify(() -> assertThat(v.exact()).as(v.toString()).isTrue());
    }

    @Test
    void statefulTotalIsExactAfterTheClusterLosesTheJobAndItIsSubmittedAgain() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("cluster-deposits", 3);
        String out = KafkaTestClient.uniqueTopicName("cluster-balances");
        String[] common =
                ExampleRun.statefulTotal(
                        KAFKA.bootstrapServers(),
                        in,
                        out,
                        KafkaTestClient.uniqueTopicName("cluster-balances-state"));
        Deposits deposits = new Deposits(TOTAL_SEED);

        deposits.produce(kafka, in, 20_000);
        runBounded(ExampleRun.with(common, "--parallelism", "1", "--bounded"));
        Map<Integer, Long> firstRunEnd = kafka.endOffsets(out, true);
        Map<String, Long> totalsBefore = deposits.totals();
        deposits.produce(kafka, in, 20_000);
        // A total above the account's total before this input: the second run restored and
        // committed progress of its own (aborted transactions move the end offsets too).
        long newTotals =
                killWhen(
                        ExampleRun.with(common, "--parallelism", "2"),
                        () -> {
                            long above = 0;
                            for (ConsumerRecord<String, String> r :
                                    CommittedOutput.read(
                                            KAFKA.bootstrapServers(), out, firstRunEnd)) {
                                if (Long.parseLong(r.value())
                                        > totalsBefore.getOrDefault(r.key(), 0L)) {
                                    above++;
                                }
                            }
                            if (above == 0) {
                                return null;
                            }
                            // more input, so the kill lands while the job works through it
                            deposits.produce(kafka, in, 5_000);
                            return above;
                        });
        deposits.produce(kafka, in, 10_000);
        runBounded(ExampleRun.with(common, "--parallelism", "3", "--bounded"));

        Deposits.Check check = deposits.check(KAFKA.bootstrapServers(), out, in + "-dlq");
        ReliabilityResult.of(
                        ReliabilityScenario.STATEFUL_TOTAL_CLUSTER_REDEPLOY,
                        "stateful-total on Kafka changelog state, job jar on a session cluster:"
                                + " p=1 bounded, p=2 with every TaskManager SIGKILLed and the job"
                                + " cancelled, then a new submission at p=3 restored from Kafka"
                                + " alone")
                .recordsIn(deposits.records())
                .lost(check.lost())
                .duplicated(check.duplicated())
                .restarts(1)
                .deadLetters(check.letters().size())
                .seed(TOTAL_SEED)
                .detail(
                        String.format(
                                "killed with %,d committed totals of the second run's input and"
                                        + " 5,000 more deposits arriving; %s",
                                newTotals, check.detail()))
                .verify(check::assertExact);
    }

    /** Submits a bounded run and waits until it has FINISHED. */
    private static void runBounded(String... args) {
        String job = cluster.submit(jar, args);
        try {
            cluster.awaitJobState(job, JOB_TIMEOUT, "FINISHED");
        } catch (IllegalStateException e) {
            throw new AssertionError(
                    e.getMessage()
                            + "\nroot exception: "
                            + cluster.rootException(job)
                            + "\nJobManager log:\n"
                            + FlinkSessionCluster.tail(cluster.jobManagerLog()),
                    e);
        }
        note(args[0] + " " + job + " finished");
    }

    /**
     * Submits a run and waits (bounded) until {@code progress} returns non-null; then SIGKILLs
     * every TaskManager (nothing of the job gets to clean up), cancels the job so its checkpoints
     * are of no use, and starts two fresh TaskManagers. Returns what {@code progress} returned.
     */
    private static <T> T killWhen(String[] args, Callable<T> progress) throws Exception {
        String job = cluster.submit(jar, args);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        T seen = null;
        String state = "";
        while (seen == null && System.nanoTime() < deadline) {
            state = cluster.jobState(job);
            assertThat(state)
                    .as("job state before the kill; root exception: %s", cluster.rootException(job))
                    .isIn("INITIALIZING", "CREATED", "RUNNING");
            seen = progress.call();
            if (seen == null) {
                Thread.sleep(300);
            }
        }
        if (seen == null) {
            throw new AssertionError(
                    "no committed progress within 120 s (job "
                            + state
                            + ")\nJobManager log:\n"
                            + FlinkSessionCluster.tail(cluster.jobManagerLog()));
        }
        for (FlinkSessionCluster.TaskManager tm : cluster.taskManagers()) {
            if (tm.isAlive()) { // those of an earlier test are gone already
                cluster.kill(tm);
            }
        }
        cluster.cancel(job);
        String cancelled = cluster.awaitJobState(job, JOB_TIMEOUT, "CANCELED");
        note(args[0] + " " + job + " lost its TaskManagers at " + seen + " and was " + cancelled);
        cluster.startTaskManager();
        cluster.startTaskManager();
        return seen;
    }

    private static void note(String message) {
        System.out.println("[cluster-redeploy] " + message);
    }
}
