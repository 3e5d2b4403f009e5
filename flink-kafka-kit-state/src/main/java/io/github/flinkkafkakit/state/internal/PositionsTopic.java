package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.Internal;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The positions topic of a changelog: what the single writer commits besides the state, in the same
 * transactions. Its records:
 *
 * <ul>
 *   <li>{@code <topic>/<partition>} → the next input offset (decimal): how far that input partition
 *       was consumed when the state was committed;
 *   <li>{@value #COMMIT_KEY} → the commit marker of the last committed transaction ({@code seq},
 *       the changelog's commit counter, and the {@code generation}); every changelog partition
 *       holds the same marker ({@link ChangelogKeys#COMMIT_MARKER}), so a restore checks that it
 *       reads positions and state of one commit;
 *   <li>{@value #OWNER_KEY} → the job whose writer took over the changelog last ({@code jobId},
 *       {@code since}): a restoring task waits until its own job owns the changelog, which its
 *       writer makes so only after fencing every other writer (see {@link ChangelogWriter});
 *   <li>{@value #IDENTITY_KEY} → what the state belongs to ({@link ChangelogIdentity}).
 * </ul>
 *
 * Topic names cannot contain {@code /}, so the bookkeeping keys never collide with positions.
 */
@Internal
public final class PositionsTopic {

    public static final String OWNER_KEY = "__fkk.owner";

    /**
     * The owner record's field saying whether the owner's writer is ready: it fenced every other
     * writer, so nothing but its own job commits any more. Restoring tasks wait for it.
     */
    public static final String OWNER_READY = "ready";

    public static final String IDENTITY_KEY = "__fkk.identity";
    public static final String COMMIT_KEY = "__fkk.commit";

    private static final Duration POLL = Duration.ofMillis(100);
    private static final long RETRY_MILLIS = 200;

    private PositionsTopic() {}

    /** The committed content of a positions topic. */
    public static final class Snapshot {
        private final Map<String, Long> positions;
        private final Fields owner;
        private final Fields identity;
        private final Fields commit;

        Snapshot(Map<String, Long> positions, Fields owner, Fields identity, Fields commit) {
            this.positions = Collections.unmodifiableMap(positions);
            this.owner = owner;
            this.identity = identity;
            this.commit = commit;
        }

        /** {@code <topic>/<partition>} → next offset. */
        public Map<String, Long> positions() {
            return positions;
        }

        public Fields owner() {
            return owner;
        }

        /** The job that owns the changelog, or null. */
        public String ownerJobId() {
            return owner.get("jobId");
        }

        /** Whether job {@code jobId} owns the changelog and its writer is ready. */
        public boolean isReadyOwner(String jobId) {
            return jobId.equals(ownerJobId()) && "true".equals(owner.get(OWNER_READY));
        }

        public Fields identity() {
            return identity;
        }

        /** The marker of the last committed transaction (empty before the first). */
        public Fields commit() {
            return commit;
        }

        /** The changelog's commit counter at the last commit, 0 before the first. */
        public long commitSeq() {
            return commit.getLong(CommitMarker.SEQ, 0);
        }

        /** Whether the topic holds nothing at all (a new changelog, or a deleted topic). */
        public boolean isEmpty() {
            return positions.isEmpty() && owner.isEmpty() && identity.isEmpty() && commit.isEmpty();
        }
    }

    /** Reads the topic's committed records ({@code read_committed}, up to its end offsets). */
    public static Snapshot read(KafkaConnection connection, String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(connection, topic)) {
            return read(consumer, topic);
        }
    }

    /**
     * Reads the topic once the writer of job {@code jobId} has taken the changelog over (polling
     * every 200 ms): from then on, until this job commits, nothing but this job changes state or
     * positions, so every task that restores reads the same commit.
     *
     * @throws IllegalStateException when no writer of the job took over within {@code timeout}
     */
    public static Snapshot awaitOwner(
            KafkaConnection connection, String topic, String jobId, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        KafkaConsumer<byte[], byte[]> consumer = consumer(connection, topic);
        try {
            while (true) {
                Snapshot snapshot = read(consumer, topic);
                if (snapshot.isReadyOwner(jobId)) {
                    return snapshot;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            String.format(
                                    "The changelog writer of this job (%s) has not taken over '%s'"
                                            + " within %d s (its owner: %s). The writer takes it"
                                            + " over when it starts: check that the job has one"
                                            + " (ChangelogPipeline.writeOutput or attach()) and"
                                            + " what its task logged",
                                    jobId,
                                    topic,
                                    timeout.toSeconds(),
                                    snapshot.owner().isEmpty() ? "none" : snapshot.owner()));
                }
                Thread.sleep(RETRY_MILLIS);
            }
        } catch (org.apache.kafka.common.errors.InterruptException e) {
            Thread.interrupted();
            throw new InterruptedException("interrupted while waiting for the changelog writer");
        } finally {
            // not the default 30 s: when the job is cancelled, this thread is interrupted
            consumer.close(Duration.ZERO);
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(
            KafkaConnection connection, String topic) {
        Properties props = BoundedReads.consumerProperties(connection);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "fkk-positions-" + topic);
        // Byte-array keys, like the kit's other consumers: the JIT compiles Kafka's record
        // parsing for the deserializer classes it has seen, and a consumer with another class
        // (read here just before every restore) made it discard the restore's compiled parsing.
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(topic, Duration.ofSeconds(30))
                .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        consumer.assign(partitions);
        return consumer;
    }

    private static Snapshot read(KafkaConsumer<byte[], byte[]> consumer, String topic) {
        List<TopicPartition> partitions = new ArrayList<>(consumer.assignment());
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        Map<String, Long> positions = new HashMap<>();
        Fields owner = Fields.empty();
        Fields identity = Fields.empty();
        Fields commit = Fields.empty();
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))
                        || r.key() == null) {
                    continue;
                }
                String key = new String(r.key(), StandardCharsets.UTF_8);
                switch (key) {
                    case OWNER_KEY -> owner = Fields.decode(r.value());
                    case IDENTITY_KEY -> identity = Fields.decode(r.value());
                    case COMMIT_KEY -> commit = Fields.decode(r.value());
                    default -> {
                        if (r.value() == null) {
                            positions.remove(key);
                        } else {
                            positions.put(
                                    key,
                                    Long.parseLong(
                                            new String(r.value(), StandardCharsets.US_ASCII)));
                        }
                    }
                }
            }
        }
        return new Snapshot(positions, owner, identity, commit);
    }
}
