package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The changelog writer's transaction protocol, driven through Flink's operator test harness
 * (checkpoints, completions and restores called one by one) against a real broker: what becomes
 * visible when, what a restored attempt commits, and what it refuses.
 */
class ChangelogWriterITCase {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension(
                    KafkaBrokerExtension.Mode.EMBEDDED,
                    Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500"));

    private static final Duration READ_IDLE = Duration.ofMillis(500);

    private KafkaTestClient kafka;
    private String changelog;
    private String positions;
    private String input;
    private String out;

    @BeforeEach
    void topics() {
        kafka = KAFKA.client();
        changelog = KafkaTestClient.uniqueTopicName("writer-state");
        kafka.createTopic(changelog, 2, Map.of("cleanup.policy", "compact"));
        positions = changelog + "-positions";
        kafka.createTopic(positions, 1, Map.of("cleanup.policy", "compact"));
        input = kafka.createUniqueTopic("writer-in", 1);
        out = kafka.createUniqueTopic("writer-out", 1);
    }

    private ChangelogSettings settings(Duration transactionTimeout) {
        return new ChangelogSettings(
                KafkaConnection.of(KAFKA.bootstrapServers()),
                changelog,
                positions,
                2,
                128,
                List.of(input),
                DeliveryGuarantee.EXACTLY_ONCE,
                "fkk-test-" + changelog,
                transactionTimeout,
                1 << 20);
    }

    /** A writer of job {@code job} in a harness, state restored from {@code restored} if set. */
    private OneInputStreamOperatorTestHarness<KafkaWrite, Void> writer(
            JobID job, OperatorSubtaskState restored, Duration transactionTimeout)
            throws Exception {
        MockEnvironment env = new MockEnvironmentBuilder().setJobID(job).build();
        Configuration conf = env.getJobConfiguration();
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(200));
        conf.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofSeconds(1));
        OneInputStreamOperatorTestHarness<KafkaWrite, Void> harness =
                new OneInputStreamOperatorTestHarness<>(
                        new ChangelogWriter(settings(transactionTimeout)),
                        KafkaWriteTypeInfo.INSTANCE.createSerializer(new SerializerConfigImpl()),
                        env);
        harness.setup();
        if (restored != null) {
            harness.initializeState(restored);
        }
        harness.open();
        return harness;
    }

    private OneInputStreamOperatorTestHarness<KafkaWrite, Void> writer(
            JobID job, OperatorSubtaskState restored) throws Exception {
        return writer(job, restored, Duration.ofMinutes(1));
    }

    private void write(OneInputStreamOperatorTestHarness<KafkaWrite, Void> writer, String... values)
            throws Exception {
        for (String value : values) {
            writer.processElement(
                    KafkaWrite.of(out, -1, null, value.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    private List<String> committedOutput() {
        List<String> values = new ArrayList<>();
        for (ConsumerRecord<String, String> r : kafka.consumeAll(out, READ_IDLE)) {
            values.add(r.value());
        }
        return values;
    }

    private List<Fields> changelogMarkers() {
        List<Fields> markers = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.consumeAllBytes(changelog, READ_IDLE)) {
            if (ChangelogKeys.isCommitMarker(r.key())) {
                markers.add(Fields.decode(r.value()));
            }
        }
        return markers;
    }

    private PositionsTopic.Snapshot positionsTopic() {
        return PositionsTopic.read(KafkaConnection.of(KAFKA.bootstrapServers()), positions);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = ExceptionUtils.stripException(t, SuppressRestartsException.class);
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }

    @Test
    void shouldMakeACheckpointsWritesVisibleOnlyOnceItCompletes() throws Exception {
        JobID job = new JobID();
        try (var writer = writer(job, null)) {
            assertThat(positionsTopic().ownerJobId()).isEqualTo(job.toString());
            write(writer, "a", "b");
            writer.snapshot(1, 1);
            assertThat(committedOutput()).isEmpty();

            writer.notifyOfCompletedCheckpoint(1);

            assertThat(committedOutput()).containsExactly("a", "b");
            assertThat(positionsTopic().commitSeq()).isEqualTo(1);
            // one marker per changelog partition, of the same commit as the positions topic
            assertThat(changelogMarkers())
                    .hasSize(2)
                    .allSatisfy(m -> assertThat(m.getLong(CommitMarker.SEQ, -1)).isEqualTo(1));
        }
    }

    @Test
    void shouldCommitWhatTheRestoredCheckpointPreCommitted() throws Exception {
        JobID job = new JobID();
        OperatorSubtaskState checkpoint;
        try (var writer = writer(job, null)) {
            write(writer, "a", "b");
            checkpoint = writer.snapshot(1, 1);
            // the attempt fails before the checkpoint's completion reaches the writer
        }
        assertThat(committedOutput()).isEmpty();

        try (var restarted = writer(job, checkpoint)) {
            assertThat(committedOutput()).containsExactly("a", "b");
            write(restarted, "c");
            restarted.snapshot(2, 2);
            restarted.notifyOfCompletedCheckpoint(2);
        }
        assertThat(committedOutput()).containsExactly("a", "b", "c");
        assertThat(positionsTopic().commitSeq()).isEqualTo(2);
    }

    @Test
    void shouldAbortWhatACrashedRunLeftOpen() throws Exception {
        try (var crashed = writer(new JobID(), null)) {
            write(crashed, "never");
            crashed.snapshot(1, 1); // pre-committed, its checkpoint never completes
        }
        JobID next = new JobID();
        try (var writer = writer(next, null)) {
            write(writer, "x");
            writer.snapshot(1, 1);
            writer.notifyOfCompletedCheckpoint(1);
        }
        assertThat(committedOutput()).containsExactly("x");
        assertThat(positionsTopic().ownerJobId()).isEqualTo(next.toString());
    }

    @Test
    void shouldStopForGoodOnceAnotherInstanceTookTheChangelogOver() throws Exception {
        JobID first = new JobID();
        JobID second = new JobID();
        OperatorSubtaskState checkpoint;
        try (var old = writer(first, null)) {
            write(old, "old");
            checkpoint = old.snapshot(1, 1);

            try (var taker = writer(second, null)) {
                Throwable commit = catchThrowable(() -> old.notifyOfCompletedCheckpoint(1));

                assertThat(commit).isInstanceOf(SuppressRestartsException.class);
                assertThat(rootMessage(commit)).contains("took changelog", "this one stops");
                write(taker, "new");
                taker.snapshot(1, 1);
                taker.notifyOfCompletedCheckpoint(1);
            }
        }
        // the first job fails over to its checkpoint: its writer refuses to go on
        Throwable restart = catchThrowable(() -> writer(first, checkpoint).close());

        assertThat(restart).isInstanceOf(SuppressRestartsException.class);
        assertThat(rootMessage(restart))
                .contains("Another instance of this job, job " + second, "took changelog");
        assertThat(committedOutput()).containsExactly("new");
    }

    @Test
    void shouldFenceEveryIdOfAGrownPool() throws Exception {
        try (var old = writer(new JobID(), null)) {
            // three checkpoints wait for their completion, and a fourth transaction is open: the
            // pool grew past its three ids
            for (int checkpoint = 1; checkpoint <= 3; checkpoint++) {
                write(old, "c" + checkpoint);
                old.snapshot(checkpoint, checkpoint);
            }
            write(old, "open");

            try (var taker = writer(new JobID(), null)) {
                Throwable commit = catchThrowable(() -> old.notifyOfCompletedCheckpoint(3));

                assertThat(commit).isInstanceOf(SuppressRestartsException.class);
            }
        }
        assertThat(committedOutput()).isEmpty();
    }

    @Test
    void shouldRefuseACheckpointWhoseTransactionKafkaAbortedAfterItCompleted() throws Exception {
        JobID job = new JobID();
        Duration timeout = Duration.ofSeconds(3);
        OperatorSubtaskState checkpoint;
        try (var writer = writer(job, null, timeout)) {
            write(writer, "lost");
            checkpoint = writer.snapshot(1, 1);
        }
        Thread.sleep(5_000); // the broker aborts the transaction after 3 s

        Throwable restart = catchThrowable(() -> writer(job, checkpoint, timeout).close());

        assertThat(restart).isInstanceOf(SuppressRestartsException.class);
        assertThat(rootMessage(restart))
                .contains(
                        "Kafka aborted the changelog writer's transaction of checkpoint 1",
                        "Start the job without its Flink checkpoint");
        assertThat(committedOutput()).isEmpty();
    }

    @Test
    void shouldRefuseAFlinkCheckpointOlderThanWhatKafkaHolds() throws Exception {
        OperatorSubtaskState older;
        try (var writer = writer(new JobID(), null)) {
            write(writer, "a");
            older = writer.snapshot(1, 1);
            writer.notifyOfCompletedCheckpoint(1);
            write(writer, "b");
            writer.snapshot(2, 2);
            writer.notifyOfCompletedCheckpoint(2);
        }

        Throwable restore = catchThrowable(() -> writer(new JobID(), older).close());

        assertThat(restore).isInstanceOf(SuppressRestartsException.class);
        assertThat(rootMessage(restore))
                .contains("savepoint of changelog commit 1", "already holds commit 2");
        assertThat(committedOutput()).containsExactly("a", "b");
    }

    @Test
    void shouldFailBeforeKafkaAbortsATransactionThatStaysOpen() throws Exception {
        try (var writer = writer(new JobID(), null, Duration.ofSeconds(3))) {
            write(writer, "a");
            writer.snapshot(1, 1); // its checkpoint does not complete
            Thread.sleep(2_000); // past the limit: 3 s less 1.5 s

            Throwable check = catchThrowable(() -> writer.setProcessingTime(60_000));

            assertThat(check).isNotNull();
            assertThat(ExceptionUtils.findThrowableWithMessage(check, "has been open for"))
                    .isPresent();
        }
    }
}
