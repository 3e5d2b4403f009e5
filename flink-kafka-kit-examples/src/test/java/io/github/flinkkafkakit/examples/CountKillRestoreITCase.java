package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.CommittedOutput;
import io.github.flinkkafkakit.testing.history.KeyedHistory;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JVM running the exactly-once count job is killed with SIGKILL after a checkpoint completed; a
 * new run resumes from the latest retained {@code chk-N} ({@code execution.state-recovery.path})
 * and finishes the input. The whole committed output, read back to the end offsets, is an exact
 * history (every key's counts are prefix counts at strictly increasing positions, ending at its
 * input count: a replay from an older position shows as repeated counts), and the resumed run
 * processed only the records after that checkpoint.
 */
class CountKillRestoreITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int KEYS = 10_000;

    private static final int PARTITIONS = 4;

    /** Per subtask, so the first run is still busy when it is killed. */
    private static final long THROTTLE = 50_000;

    @Test
    void shouldCountExactlyAfterSigkillAndRestoreFromTheRetainedCheckpoint() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("kill-in", PARTITIONS);
        String out = kafka.createUniqueTopic("kill-out", PARTITIONS);
        long records = CountInput.records();
        CountInput input = CountInput.produce(kafka, in, records, KEYS);
        Path checkpoints =
                Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "chk");

        Process job =
                start(
                        KAFKA.bootstrapServers(),
                        in,
                        out,
                        checkpoints.toString(),
                        Long.toString(THROTTLE));
        try {
            awaitCheckpointWithProgress(kafka, out, checkpoints, job);
        } finally {
            job.destroyForcibly(); // SIGKILL
            job.waitFor(30, TimeUnit.SECONDS);
        }
        Path restoreFrom = CountJobProcess.latestCheckpoint(checkpoints).orElseThrow();

        int kills = 1;
        long resumed =
                CountJobProcess.run(
                        KAFKA.bootstrapServers(),
                        in,
                        out,
                        checkpoints,
                        0,
                        restoreFrom.toUri().toString(),
                        () -> awaitCounts(KAFKA.bootstrapServers(), out, input));

        // The resumed run is cancelled: everything it committed is below the last stable offsets.
        List<ConsumerRecord<String, String>> output =
                CommittedOutput.read(KAFKA.bootstrapServers(), out);
        KeyedHistory.Verdict history = input.history(output).checkRunningTotals(false);
        ReliabilityResult.of(
                        ReliabilityScenario.COUNT_KILL_RESTORE,
                        String.format(
                                "count, exactly-once, job JVM killed (SIGKILL) and resumed from"
                                        + " the latest retained checkpoint, %,d keys",
                                KEYS))
                .recordsIn(records)
                .lost(history.lost())
                .duplicated(history.duplicatedOrWrong())
                .restarts(kills)
                .seed("input " + CountInput.SEED)
                .detail(
                        String.format(
                                "resumed from %s, the resumed run processed %,d of %,d records;"
                                        + " %,d committed outputs over %,d keys",
                                restoreFrom.getFileName(),
                                resumed,
                                records,
                                history.outputs(),
                                history.keys()))
                .verify(
                        () -> {
                            assertThat(resumed)
                                    .as("records the resumed run processed (after the checkpoint)")
                                    .isPositive()
                                    .isLessThan(records);
                            assertThat(history.unexpectedKeys()).as(history.toString()).isZero();
                            assertThat(history.lost()).as("records lost: %s", history).isZero();
                            assertThat(history.duplicatedOrWrong())
                                    .as("committed counts replayed or counted twice: %s", history)
                                    .isZero();
                            assertThat(history.isExact()).as(history.toString()).isTrue();
                        });
    }

    /**
     * Waits (bounded, 180 s) until the committed last counts equal the input's, reading only what
     * was committed since the previous look (to the last stable offsets, no idle wait); the history
     * check afterwards says what differs if they never do.
     */
    private static void awaitCounts(String bootstrap, String out, CountInput input)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        Map<Integer, Long> from = new HashMap<>();
        Map<String, String> last = new HashMap<>();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : CommittedOutput.read(bootstrap, out, from)) {
                last.put(r.key(), r.value());
                from.put(r.partition(), r.offset() + 1);
            }
            CountInput.Outcome now = input.compare(last);
            if (now.lost() == 0 && now.duplicated() == 0 && now.unexpectedKeys() == 0) {
                return;
            }
            Thread.sleep(200);
        }
    }

    /**
     * Waits (bounded, 120 s) until the running process has committed output and so has completed a
     * checkpoint that holds source progress: its counts are emitted at a checkpoint and become
     * visible to {@code read_committed} only when that checkpoint completes, after its {@code
     * _metadata} is written. The checkpoint count alone is not enough: on a slow machine the first
     * checkpoints can complete before the source readers have their splits, and a run resumed from
     * one of those reads the whole input again.
     */
    private static Path awaitCheckpointWithProgress(
            KafkaTestClient kafka, String out, Path dir, Process job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                throw new AssertionError(
                        "the job process exited with "
                                + job.exitValue()
                                + " before it was killed; see "
                                + log());
            }
            Optional<Path> latest = CountJobProcess.latestCheckpoint(dir);
            if (latest.isPresent() && hasCommittedOutput(kafka, out)) {
                return latest.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no committed output within 120 s; see " + log());
    }

    /**
     * Whether the last stable offset of any partition of {@code out} has moved: the job writes only
     * in transactions, and in a run without failures each completed one is a committed one.
     */
    private static boolean hasCommittedOutput(KafkaTestClient kafka, String out) throws Exception {
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            ends.put(new TopicPartition(out, p), OffsetSpec.latest());
        }
        return kafka
                .admin()
                .listOffsets(ends, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all()
                .get(30, TimeUnit.SECONDS)
                .values()
                .stream()
                .anyMatch(info -> info.offset() > 0);
    }

    private static File log() {
        return new File(System.getProperty("java.io.tmpdir"), "count-kill-run.log");
    }

    private static Process start(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens")
                    || arg.startsWith("-Djava.io.tmpdir")
                    || arg.startsWith("-Dlog4j2")) {
                command.add(arg);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(CountJobProcess.class.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log()).start();
    }
}
