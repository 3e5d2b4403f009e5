package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.FlinkSessionCluster;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job jar on a real Flink standalone session cluster (separate JobManager and TaskManager
 * processes, {@link FlinkSessionCluster}) loses a TaskManager to SIGKILL mid-run: an exactly-once
 * bounded {@code count} at parallelism 4 on two TaskManagers of 2 slots; once output has been
 * committed, one TaskManager is killed and a fresh one started. Flink keeps deploying to the dead
 * TaskManager until its heartbeat fails, so the job needs the cluster's restart strategy (10
 * attempts, 2 s apart) rather than 3 quick attempts: it must FINISH, and every key's committed
 * running counts must be exactly 1, 2, …, n in order (no gap, no duplicate).
 *
 * <p>Submitted with Flink's CLI ({@code flink run -d}), so it also checks that a detached run
 * prints {@code count: submitted as job <id>}. Runs after {@code package} (verify phase): it needs
 * {@code target/flink-kafka-kit-examples-job.jar}. Appends a row to {@code
 * target/reliability/results.jsonl}. {@code -Dfkk.cluster.keep=true} keeps the cluster's logs.
 */
class ClusterTaskManagerKillJarTest {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final String SCENARIO =
            "TaskManager SIGKILL + replacement during exactly-once count on a session cluster"
                    + " (p=4, 2 TMs x 2 slots)";
    private static final int RECORDS = 200_000;
    private static final int KEYS = 500;
    private static final int PARTITIONS = 4;
    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(120);

    @Test
    void countJobFinishesWithExactHistoriesAfterATaskManagerIsKilled() throws Exception {
        Path jar = ExampleRun.packagedJobJar();
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("cluster-in", PARTITIONS);
        String out = KafkaTestClient.uniqueTopicName("cluster-counts");
        Map<String, Long> expected = produce(kafka, in);

        int failures;
        String state;
        long committedAtKill;
        boolean keep = Boolean.getBoolean("fkk.cluster.keep");
        try (FlinkSessionCluster cluster =
                FlinkSessionCluster.builder()
                        .taskManagers(2)
                        .slotsPerTaskManager(2)
                        .keepDirectory(keep)
                        .start()) {
            note("cluster up at " + cluster.restUrl() + " (" + cluster.directory() + ")");
            String job =
                    cluster.submit(
                            jar,
                            "count",
                            "--bootstrap-servers",
                            KAFKA.bootstrapServers(),
                            "--input-topic",
                            in,
                            "--output-topic",
                            out,
                            "--group-id",
                            "g-" + in,
                            "--emit",
                            "every-record",
                            "--parallelism",
                            "4",
                            "--checkpoint-interval",
                            "500ms",
                            "--bounded");
            String cli = Files.readString(cluster.lastSubmissionLog());
            note("submitted job " + job);
            assertThat(cli)
                    .as("a detached run says it submitted the job, not that it finished")
                    .contains("count: submitted as job " + job)
                    .doesNotContain("count: finished");

            committedAtKill = awaitCommittedOutput(kafka, out, cluster, job);
            FlinkSessionCluster.TaskManager victim = cluster.taskManagers().get(0);
            cluster.kill(victim);
            note(
                    "killed "
                            + victim
                            + " with "
                            + committedAtKill
                            + " output offsets committed; job "
                            + cluster.jobState(job));
            FlinkSessionCluster.TaskManager fresh = cluster.startTaskManager();
            note("started " + fresh + "; job " + cluster.jobState(job));
            try {
                state = cluster.awaitJobState(job, JOB_TIMEOUT, "FINISHED");
            } catch (IllegalStateException e) {
                int failed = cluster.failures(job);
                String log = FlinkSessionCluster.tail(cluster.jobManagerLog());
                row().recordsIn(RECORDS)
                        .restarts(failed)
                        .verify(
                                () -> {
                                    throw new AssertionError(
                                            e.getMessage()
                                                    + "\nfailures: "
                                                    + failed
                                                    + "\nJobManager log:\n"
                                                    + log,
                                            e);
                                });
                throw e; // verify rethrew the failure above
            }
            failures = cluster.failures(job);
            note("job " + state + " after " + failures + " failure(s)/restart(s)");
        }

        List<ConsumerRecord<String, String>> output = kafka.consumeAll(out);
        Map<String, List<Long>> histories = new TreeMap<>();
        for (ConsumerRecord<String, String> r : output) {
            histories
                    .computeIfAbsent(r.key(), k -> new ArrayList<>())
                    .add(Long.parseLong(r.value()));
        }
        List<String> wrong = new ArrayList<>();
        long lost = 0;
        long duplicated = 0;
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            List<Long> got = histories.getOrDefault(e.getKey(), List.of());
            long n = e.getValue();
            List<Long> want =
                    IntStream.rangeClosed(1, (int) n)
                            .mapToObj(i -> (long) i)
                            .collect(Collectors.toList());
            if (!got.equals(want)) {
                wrong.add(e.getKey() + ": " + describe(got, n));
            }
            lost += Math.max(0, n - got.stream().distinct().count());
            duplicated += Math.max(0, got.size() - got.stream().distinct().count());
        }
        List<String> unexpected =
                histories.keySet().stream()
                        .filter(k -> !expected.containsKey(k))
                        .collect(Collectors.toList());
        int restarts = failures;
        long killedAt = committedAtKill;
        row().recordsIn(RECORDS)
                .lost(lost)
                .duplicated(duplicated)
                .restarts(restarts)
                .detail(
                        String.format(
                                "%,d committed outputs, %,d keys; killed with %,d output offsets"
                                        + " committed",
                                output.size(), histories.size(), killedAt))
                .verify(
                        () -> {
                            assertThat(killedAt)
                                    .as("output was committed before the kill")
                                    .isPositive();
                            assertThat(restarts)
                                    .as("the kill caused at least one restart")
                                    .isPositive();
                            assertThat(unexpected)
                                    .as("output keys that were never input")
                                    .isEmpty();
                            assertThat(wrong)
                                    .as(
                                            "keys whose committed counts are not exactly 1..n in"
                                                    + " order (%d keys)",
                                            wrong.size())
                                    .isEmpty();
                            assertThat(output).hasSize(RECORDS);
                        });
    }

    /** This scenario's report row, written by {@code verify} once its assertions ran. */
    private static ReliabilityResult.Builder row() {
        return ReliabilityResult.of(ReliabilityScenario.CLUSTER_TASK_MANAGER_KILL, SCENARIO);
    }

    /** A short description of what is wrong with a history that should be 1..n. */
    private static String describe(List<Long> got, long n) {
        if (got.isEmpty()) {
            return "no output, expected 1.." + n;
        }
        for (int i = 0; i < got.size(); i++) {
            if (got.get(i) != i + 1) {
                return "value #"
                        + (i + 1)
                        + " is "
                        + got.get(i)
                        + " (after "
                        + (i == 0 ? "nothing" : got.get(i - 1))
                        + "), expected 1.."
                        + n;
            }
        }
        return "ends at " + got.get(got.size() - 1) + ", expected 1.." + n;
    }

    private static Map<String, Long> produce(KafkaTestClient kafka, String topic) {
        Map<String, Long> expected = new HashMap<>();
        Random random = new Random(17);
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (int i = 0; i < RECORDS; i++) {
                String key = "key-" + random.nextInt(KEYS);
                batch.send(key, "");
                expected.merge(key, 1L, Long::sum);
            }
        }
        return expected;
    }

    /**
     * Waits (bounded) until the output topic's read_committed end offsets show committed output,
     * and returns their sum; fails if the job ends or all output is committed before that (the kill
     * would then come too late to test anything).
     */
    private static long awaitCommittedOutput(
            KafkaTestClient kafka, String topic, FlinkSessionCluster cluster, String job)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String state = "";
        while (System.nanoTime() < deadline) {
            long committed = committedOffsets(kafka, topic);
            state = cluster.jobState(job);
            if (!state.equals("RUNNING")) {
                assertThat(state)
                        .as(
                                "job state before the kill; root exception: %s",
                                cluster.rootException(job))
                        .isIn("INITIALIZING", "CREATED", "RUNNING");
            }
            if (committed > 0) {
                assertThat(committed)
                        .as("the job was still producing when the TaskManager was to be killed")
                        .isLessThan(RECORDS);
                return committed;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "no committed output in '"
                        + topic
                        + "' within 90 s (job "
                        + state
                        + ")\nJobManager log:\n"
                        + FlinkSessionCluster.tail(cluster.jobManagerLog()));
    }

    /**
     * Sum of the read_committed end offsets (last stable offsets) of {@code topic}, 0 if absent.
     */
    private static long committedOffsets(KafkaTestClient kafka, String topic) {
        try {
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                request.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            return kafka
                    .admin()
                    .listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .values()
                    .stream()
                    .mapToLong(o -> o.offset())
                    .sum();
        } catch (Exception notYet) {
            return 0; // the job creates the topic
        }
    }

    private static void note(String event) {
        System.out.println(java.time.LocalTime.now() + " ClusterTaskManagerKill: " + event);
    }
}
