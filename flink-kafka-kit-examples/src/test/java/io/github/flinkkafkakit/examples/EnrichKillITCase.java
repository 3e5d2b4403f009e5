package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.state.internal.ChangelogKeys;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code enrich} restarted from Kafka alone, the way its contract promises: a bounded run at
 * parallelism 1, more input, an unbounded run at parallelism 2 killed with SIGKILL once it has
 * committed clicks still waiting for the watermark (their state and timers in the changelog — the
 * job's own signal, read back from Kafka), more input, then a bounded run at parallelism 3 with no
 * Flink checkpoint: every click in the committed output exactly once with the profile version in
 * effect at its time, every malformed and late record in the dead-letter topic once.
 */
class EnrichKillITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void shouldEnrichEveryClickOnceAfterASigkillAndARestartFromKafkaAlone() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        EnrichTopics topics = EnrichTopics.create(kafka, KAFKA.bootstrapServers(), "");
        EnrichData data = new EnrichData(9);
        topics.write(data, kafka, 10_000);
        ExampleRun first = ExampleRun.of(topics.args("--parallelism", "1", "--bounded"));
        assertThat(first.exitCode()).as(first.all()).isZero();

        topics.write(data, kafka, 20_000);
        File log = new File(System.getProperty("java.io.tmpdir"), "enrich-kill.log");
        Process job = ExampleRun.startProcess(log, topics.args("--parallelism", "2"));
        try {
            waitForCommittedWaitingClicks(kafka, topics.state(), job, log);
        } finally {
            job.destroyForcibly(); // SIGKILL
            job.waitFor(30, TimeUnit.SECONDS);
        }

        topics.write(data, kafka, 5_000);
        ExampleRun last = ExampleRun.of(topics.args("--parallelism", "3", "--bounded"));
        assertThat(last.exitCode()).as(last.all()).isZero();

        EnrichData.Verdict verdict = data.check(kafka, topics.out(), topics.dlq());
        assertThat(verdict.exact()).as(verdict.toString()).isTrue();
    }

    /**
     * Waits (bounded) until the second run has committed clicks waiting for the watermark in its
     * second commit or later: records of its {@code pending} state in the changelog, read with
     * {@code read_committed}, beyond those the first run left.
     */
    private static void waitForCommittedWaitingClicks(
            KafkaTestClient kafka, String state, Process job, File log) throws Exception {
        int before = waitingClickRecords(kafka, state);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!job.isAlive()) {
                throw new AssertionError(
                        "the job exited with "
                                + job.exitValue()
                                + ": "
                                + Files.readString(log.toPath(), StandardCharsets.UTF_8));
            }
            if (waitingClickRecords(kafka, state) > before + 100) {
                return;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("no committed waiting clicks within 120 s");
    }

    /** Committed changelog records of clicks waiting in operator {@code enrich}. */
    static int waitingClickRecords(KafkaTestClient kafka, String state) {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r :
                kafka.consumeAllBytes(state, Duration.ofMillis(200))) {
            if (!ChangelogKeys.isCommitMarker(r.key())
                    && r.value() != null
                    && ChangelogKeys.stateName(r.key()).equals("enrich/pending")) {
                n++;
            }
        }
        return n;
    }
}
