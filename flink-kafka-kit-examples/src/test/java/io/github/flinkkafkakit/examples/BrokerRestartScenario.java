package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.BrokerProcess;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.history.KeyedHistory;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;

import org.junit.jupiter.api.AfterEach;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scenario of {@link BrokerRestartITCase} and {@link BrokerRestartJarTest}. Issue #9: a bounded
 * exactly-once {@code count} at parallelism 2 runs in its own JVM against a broker in another
 * process; the broker is SIGKILLed mid-run, stays down about 5 s and comes back on the same port
 * with the same data. The job must finish by itself (exit 0) and its whole committed output, read
 * back to the end offsets, must be an exact history: every key's counts prefix counts at strictly
 * increasing positions, ending at its number of input records. The 3 min limit is a hang guard, not
 * a timing assert.
 *
 * <p>Appends one JSON line per run to {@code target/reliability/results.jsonl} once the assertions
 * ran (lost/duplicated from the history; restarts: Flink job restarts counted from the job's log,
 * -1 when unknown).
 */
abstract class BrokerRestartScenario {

    private static final String SCENARIO =
            "broker SIGKILL + restart during exactly-once count (p=2)";

    /**
     * Enough input, with checkpoints every 200 ms, that the job is still reading several
     * checkpoints after its first commit (at 300,000 records it finished within its first
     * checkpoint once the source got faster, and the FIRST_COMMIT kill came too late).
     */
    private static final int RECORDS = 1_000_000;

    private static final int KEYS = 1_000;
    private static final long SEED = 9;
    private static final long HANG_GUARD_SECONDS = 180;

    /** How long the broker stays down before the restart begins (exploration: override it). */
    private static final long DOWN_MILLIS = Long.getLong("fkk.brokerRestart.downMillis", 5_000);

    private BrokerProcess broker;
    private KafkaTestClient kafka;
    private Process job;

    @AfterEach
    void stopProcesses() throws Exception {
        if (job != null && job.isAlive()) {
            job.destroyForcibly();
            job.waitFor(30, TimeUnit.SECONDS);
        }
        if (kafka != null) {
            kafka.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** When the broker is killed. */
    enum KillPoint {
        /** As soon as every task runs: the source is reading, transactions are open. */
        TASKS_RUNNING,
        /** After the first checkpoint committed input offsets and output. */
        FIRST_COMMIT
    }

    /** How the job's JVM is started. */
    enum Launcher {
        /** {@code java -cp <test classpath> Examples ...}: runs before {@code package}. */
        CLASSPATH,
        /** {@code java -jar target/flink-kafka-kit-examples.jar ...}: what users run. */
        RUNNABLE_JAR
    }

    /**
     * Runs the scenario: produce, start the job, SIGKILL the broker at {@code killPoint}, restart
     * it after {@link #DOWN_MILLIS}, wait for the job; appends the result row, then asserts.
     */
    void run(KillPoint killPoint, Launcher launcher) throws Exception {
        broker = BrokerProcess.start();
        kafka = broker.client();
        String in = kafka.createUniqueTopic("restart-in", 2);
        String out = KafkaTestClient.uniqueTopicName("restart-counts");
        String group = "g-" + in;
        Map<String, Long> expected = produce(kafka, in);

        Path workDir = Path.of(System.getProperty("java.io.tmpdir"));
        Path jobLog = workDir.resolve("broker-restart-job-" + in + ".log");
        job =
                startJob(
                        launcher,
                        jobLog,
                        "count",
                        "--bootstrap-servers",
                        broker.bootstrapServers(),
                        "--input-topic",
                        in,
                        "--output-topic",
                        out,
                        "--group-id",
                        group,
                        "--guarantee",
                        "exactly-once",
                        "--parallelism",
                        "2",
                        "--checkpoint-interval",
                        "200ms",
                        "--bounded");

        boolean killedMidRun = waitFor(killPoint, kafka, group, jobLog);
        broker.kill(); // SIGKILL
        note("broker killed (job still running: " + killedMidRun + ")");
        Thread.sleep(DOWN_MILLIS);
        broker.restart();
        note("broker restarted on the same port (pid " + broker.pid() + ")");

        boolean exited = job.waitFor(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
        note("job " + (exited ? "exited with " + job.exitValue() : "still running: hang guard"));
        if (!exited) {
            job.destroyForcibly();
            job.waitFor(30, TimeUnit.SECONDS);
        }
        String jobOutput = Files.readString(jobLog, StandardCharsets.UTF_8);
        List<ConsumerRecord<String, String>> output = List.of();
        try {
            // The job has exited: all it committed is below the last stable offsets.
            output = CommittedOutput.read(broker.bootstrapServers(), out);
        } catch (RuntimeException noOutput) {
            jobOutput += "\n(reading the output failed: " + noOutput + ")";
        }
        KeyedHistory<String> counts = new KeyedHistory<>();
        expected.forEach(
                (key, n) -> {
                    for (long i = 0; i < n; i++) {
                        counts.input(key, 1);
                    }
                });
        output.forEach(r -> counts.output(r.key(), Long.parseLong(r.value())));
        KeyedHistory.Verdict history = counts.checkRunningTotals(false);
        int restarts = restarts(jobOutput);
        String log = jobOutput;
        ReliabilityResult.of(scenario(killPoint, launcher), description(killPoint, launcher))
                .recordsIn(RECORDS)
                .lost(history.lost())
                .duplicated(history.duplicatedOrWrong())
                .restarts(restarts)
                .seed("input " + SEED)
                .detail(
                        String.format(
                                "broker down %,d ms; %,d committed outputs over %,d keys",
                                DOWN_MILLIS, history.outputs(), history.keys()))
                .verify(
                        () -> {
                            assertThat(killedMidRun)
                                    .as(
                                            "the job was still running when the broker was killed\n"
                                                    + log)
                                    .isTrue();
                            assertThat(exited)
                                    .as(
                                            "job ended within %d s (hang guard)\n%s",
                                            HANG_GUARD_SECONDS, log)
                                    .isTrue();
                            assertThat(job.exitValue()).as("job exit code\n" + log).isZero();
                            assertThat(history.lost()).as("records lost: %s", history).isZero();
                            assertThat(history.duplicatedOrWrong())
                                    .as("committed counts replayed or counted twice: %s", history)
                                    .isZero();
                            assertThat(history.isExact()).as(history.toString()).isTrue();
                        });
    }

    private static void note(String event) {
        System.out.println(java.time.LocalTime.now() + " BrokerRestartScenario: " + event);
    }

    private static Map<String, Long> produce(KafkaTestClient kafka, String topic) {
        Map<String, Long> expected = new HashMap<>();
        Random random = new Random(SEED);
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (int i = 0; i < RECORDS; i++) {
                String key = "key-" + random.nextInt(KEYS);
                batch.send(key, Integer.toString(i));
                expected.merge(key, 1L, Long::sum);
            }
        }
        return expected;
    }

    /**
     * The examples CLI in its own JVM (as {@code java -jar} runs it), its output and a log of
     * Flink's job state changes (to count restarts) in {@code log}.
     */
    private static Process startJob(Launcher launcher, Path log, String... args)
            throws IOException {
        Path log4j = log.resolveSibling(log.getFileName() + ".log4j2.properties");
        Files.writeString(
                log4j,
                String.join(
                        "\n",
                        "rootLogger.level = OFF",
                        "rootLogger.appenderRef.console.ref = ConsoleAppender",
                        "appender.console.name = ConsoleAppender",
                        "appender.console.type = CONSOLE",
                        "appender.console.target = SYSTEM_ERR",
                        "appender.console.layout.type = PatternLayout",
                        "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n",
                        // DefaultExecutionGraph logs job state changes as ExecutionGraph.
                        "logger.graph.name = org.apache.flink.runtime.executiongraph.ExecutionGraph",
                        "logger.graph.level = INFO",
                        "logger.kit.name = io.github.flinkkafkakit",
                        "logger.kit.level = WARN",
                        ""),
                StandardCharsets.UTF_8);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx768m");
        command.add("-Dlog4j2.configurationFile=" + log4j.toAbsolutePath());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("-Djava.io.tmpdir")) {
                command.add(arg);
            }
        }
        if (launcher == Launcher.RUNNABLE_JAR) {
            Path jar = Path.of("target", "flink-kafka-kit-examples.jar");
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(jar + " is missing: run `mvn package` first");
            }
            command.add("-jar");
            command.add(jar.toAbsolutePath().toString());
        } else {
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(Examples.class.getName());
        }
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /**
     * Waits (bounded) until the job has committed some but not all input (its source commits
     * offsets at each checkpoint); returns whether the job was still running then.
     */
    private boolean waitFor(KillPoint point, KafkaTestClient kafka, String group, Path jobLog)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                return false;
            }
            if (point == KillPoint.TASKS_RUNNING) {
                // 2 source and 2 sink subtasks
                if (Files.readString(jobLog, StandardCharsets.UTF_8)
                                .split("INITIALIZING to RUNNING", -1)
                                .length
                        > 4) {
                    return job.isAlive() && committed(kafka, group) < RECORDS;
                }
                Thread.sleep(50);
                continue;
            }
            long committed = committed(kafka, group);
            if (committed > 0) {
                return job.isAlive() && committed < RECORDS;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "the job did not reach "
                        + point
                        + " within 120 s\n"
                        + Files.readString(jobLog, StandardCharsets.UTF_8));
    }

    private static long committed(KafkaTestClient kafka, String group) throws Exception {
        return kafka
                .admin()
                .listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS)
                .values()
                .stream()
                .filter(o -> o != null)
                .mapToLong(OffsetAndMetadata::offset)
                .sum();
    }

    private static final Pattern RESTARTING =
            Pattern.compile("switched from state \\w+ to RESTARTING");

    /** Job restarts seen in the job's log, -1 when the log does not show state changes. */
    static int restarts(String log) {
        if (!log.contains("switched from state")) {
            return -1;
        }
        Matcher m = RESTARTING.matcher(log);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static ReliabilityScenario scenario(KillPoint killPoint, Launcher launcher) {
        if (launcher == Launcher.RUNNABLE_JAR) {
            return ReliabilityScenario.BROKER_RESTART_JAR;
        }
        return killPoint == KillPoint.TASKS_RUNNING
                ? ReliabilityScenario.BROKER_RESTART_TASKS_RUNNING
                : ReliabilityScenario.BROKER_RESTART_FIRST_COMMIT;
    }

    private static String description(KillPoint killPoint, Launcher launcher) {
        return String.format(
                Locale.ROOT,
                "%s; broker killed when %s; job run %s",
                SCENARIO,
                killPoint.name().toLowerCase(Locale.ROOT).replace('_', ' '),
                launcher == Launcher.RUNNABLE_JAR ? "with java -jar" : "from the classpath");
    }
}
