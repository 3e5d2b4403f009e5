package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.FlinkSessionCluster;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code enrich}'s job jar on a real Flink standalone session cluster, redeployed the hard way: a
 * bounded run at parallelism 1, more input, an unbounded run at parallelism 2 whose TaskManagers
 * are all SIGKILLed once it has committed clicks still waiting for the watermark (its changelog
 * holds their state and timers), the job cancelled so that its Flink checkpoints are of no use,
 * then fresh TaskManagers, more input and a new submission at parallelism 3 with no checkpoint or
 * savepoint: it restores from Kafka alone, in the TaskManagers' user-code class loaders. Every
 * click must be in the committed output exactly once with the profile version in effect at its
 * time, every malformed and late record in the dead-letter topic once.
 *
 * <p>Runs after {@code package} (verify phase): it needs {@code
 * target/flink-kafka-kit-examples-job.jar}. Appends a row to {@code
 * target/reliability/results.jsonl}. {@code -Dfkk.cluster.keep=true} keeps the cluster's logs;
 * {@code -Dfkk.enrich.scale=N} writes N times the input (35,000 clicks and 3,500 profile versions
 * at 1).
 */
class EnrichClusterRedeployJarTest {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final String SCENARIO =
            "enrich on Kafka changelog state, job jar on a session cluster: p=1 bounded, p=2 with"
                    + " every TaskManager SIGKILLed and the job cancelled, then a new submission at"
                    + " p=3 restored from Kafka alone";
    private static final long SEED = 21;
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
    private static final int SCALE = Integer.getInteger("fkk.enrich.scale", 1);

    @Test
    void shouldEnrichEveryClickOnceAfterTheClusterLosesTheJobAndItIsSubmittedAgain()
            throws Exception {
        Path jar = ExampleRun.packagedJobJar();
        KafkaTestClient kafka = KAFKA.client();
        EnrichTopics topics = EnrichTopics.create(kafka, KAFKA.bootstrapServers(), "cluster-");
        EnrichData data = new EnrichData(SEED);
        int waitingAtKill;
        try (FlinkSessionCluster cluster =
                FlinkSessionCluster.builder()
                        .taskManagers(2)
                        .slotsPerTaskManager(2)
                        .keepDirectory(Boolean.getBoolean("fkk.cluster.keep"))
                        .start()) {
            note("cluster up at " + cluster.restUrl() + " (" + cluster.directory() + ")");
            topics.write(data, kafka, 10_000 * SCALE);
            String first = cluster.submit(jar, topics.args("--parallelism", "1", "--bounded"));
            awaitFinished(cluster, first);
            note("first run " + first + " finished");

            topics.write(data, kafka, 20_000 * SCALE);
            String second = cluster.submit(jar, topics.args("--parallelism", "2"));
            waitingAtKill = awaitCommittedWaitingClicks(kafka, topics.state(), cluster, second);
            for (FlinkSessionCluster.TaskManager tm : cluster.taskManagers()) {
                cluster.kill(tm); // SIGKILL: nothing of the job gets to clean up
            }
            cluster.cancel(second);
            String cancelled = cluster.awaitJobState(second, JOB_TIMEOUT, "CANCELED");
            note("second run " + second + " lost its TaskManagers and was " + cancelled);

            cluster.startTaskManager();
            cluster.startTaskManager();
            topics.write(data, kafka, 5_000 * SCALE);
            String last = cluster.submit(jar, topics.args("--parallelism", "3", "--bounded"));
            awaitFinished(cluster, last);
            assertThat(Files.readString(cluster.lastSubmissionLog()))
                    .as("a detached run says it submitted the job")
                    .contains("enrich: submitted as job " + last);
            note("last run " + last + " finished");
        }

        EnrichData.Verdict v = data.check(kafka, topics.out(), topics.dlq());
        long expectedLetters = v.malformed + v.lateDeadLetters;
        int waiting = waitingAtKill;
        ReliabilityResult.of(ReliabilityScenario.ENRICH_CLUSTER_REDEPLOY, SCENARIO)
                .recordsIn(v.clicks)
                .lost(v.missing + Math.max(0, expectedLetters - v.deadLetters))
                .duplicated(
                        v.duplicated
                                + v.wrong
                                + v.unexpected
                                + Math.max(0, v.deadLetters - expectedLetters))
                .restarts(1)
                .deadLetters(v.deadLetters)
                .seed(SEED)
                .detail(
                        String.format(
                                "killed with %,d committed changelog records of waiting clicks;"
                                        + " %s",
                                waiting, v))
                .verify(
                        () -> {
                            assertThat(waiting)
                                    .as(
                                            "clicks waiting for the watermark committed before the kill")
                                    .isPositive();
                            assertThat(v.exact()).as(v.toString()).isTrue();
                        });
    }

    private static void awaitFinished(FlinkSessionCluster cluster, String job) {
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
    }

    /**
     * Waits (bounded) until the running job has committed clicks waiting for the watermark beyond
     * those the first run left: records of operator {@code enrich}'s {@code pending} state in the
     * changelog, read with {@code read_committed}. Returns how many there are.
     */
    private static int awaitCommittedWaitingClicks(
            KafkaTestClient kafka, String state, FlinkSessionCluster cluster, String job)
            throws Exception {
        int before = EnrichKillITCase.waitingClickRecords(kafka, state);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String jobState = "";
        while (System.nanoTime() < deadline) {
            jobState = cluster.jobState(job);
            assertThat(jobState)
                    .as("job state before the kill; root exception: %s", cluster.rootException(job))
                    .isIn("INITIALIZING", "CREATED", "RUNNING");
            int now = EnrichKillITCase.waitingClickRecords(kafka, state);
            if (now > before + 100) {
                return now;
            }
            Thread.sleep(300);
        }
        throw new AssertionError(
                "no committed waiting clicks within 120 s (job "
                        + jobState
                        + ")\nJobManager log:\n"
                        + FlinkSessionCluster.tail(cluster.jobManagerLog()));
    }

    private static void note(String message) {
        System.out.println("[enrich-cluster] " + message);
    }
}
