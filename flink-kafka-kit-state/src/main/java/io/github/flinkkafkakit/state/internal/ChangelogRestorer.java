package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.state.KeyGroupRange;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * Bulk-reads the part of a changelog topic one subtask owns: only the partitions that can hold its
 * key groups, only committed records ({@code read_committed}), up to the end offsets present at
 * start, skipping records of other key groups by their first two bytes. The consumer is tuned for
 * throughput (large fetches and polls).
 */
@Internal
public final class ChangelogRestorer {

    /** Receives one changelog record: the record key and the value ({@code null} = tombstone). */
    @FunctionalInterface
    public interface Sink {
        void accept(byte[] recordKey, byte[] value) throws Exception;
    }

    /**
     * Decodes one changelog record on the fetch thread (so decoding overlaps with applying the
     * previous batch); {@code null} = nothing to apply.
     */
    @FunctionalInterface
    public interface Decoder<D> {
        D decode(byte[] recordKey, byte[] value) throws Exception;
    }

    /** Applies one decoded record on the restoring thread. */
    @FunctionalInterface
    public interface Applier<D> {
        void apply(D decoded) throws Exception;
    }

    private static final Duration POLL = Duration.ofMillis(200);
    private static final long PROGRESS_EVERY = 100_000;

    /** Batches read ahead of the restoring thread. */
    private static final int QUEUED_BATCHES = 4;

    /** Marks the end of the changelog in the hand-over queue. */
    private static final Object END = new Object();

    private final KafkaConnection connection;
    private final String topic;
    private final int partitions;
    private final int maxParallelism;
    private final KeyGroupRange range;

    public ChangelogRestorer(
            KafkaConnection connection,
            String topic,
            int partitions,
            int maxParallelism,
            KeyGroupRange range) {
        this.connection = connection;
        this.topic = topic;
        this.partitions = partitions;
        this.maxParallelism = maxParallelism;
        this.range = range;
    }

    /** The partitions that can hold key groups of {@code range}. */
    List<TopicPartition> ownedPartitions() {
        int first = ChangelogKeys.partitionOf(range.getStartKeyGroup(), maxParallelism, partitions);
        int last = ChangelogKeys.partitionOf(range.getEndKeyGroup(), maxParallelism, partitions);
        List<TopicPartition> owned = new ArrayList<>();
        for (int p = first; p <= last; p++) {
            owned.add(new TopicPartition(topic, p));
        }
        return owned;
    }

    /**
     * Reads every committed record of the owned key groups, in offset order per partition.
     *
     * <p>A fetch thread polls and filters the changelog while the calling thread applies the
     * previous batch to the state, so reading and restoring overlap.
     *
     * @return how many records were passed to {@code sink}
     */
    public long restore(Sink sink, LongConsumer progress) throws Exception {
        return restore(
                (recordKey, value) -> new byte[][] {recordKey, value},
                record -> sink.accept(record[0], record[1]),
                progress);
    }

    /**
     * Like {@link #restore(Sink, LongConsumer)}, with each record decoded on the fetch thread and
     * applied on the calling thread.
     *
     * @return how many owned records were read (including those decoded to {@code null})
     */
    public <D> long restore(Decoder<D> decoder, Applier<D> applier, LongConsumer progress)
            throws Exception {
        BlockingQueue<Object> batches = new ArrayBlockingQueue<>(QUEUED_BATCHES);
        AtomicBoolean stop = new AtomicBoolean();
        Thread fetcher =
                new Thread(() -> fetch(decoder, batches, stop), "fkk-changelog-restore-" + topic);
        fetcher.setDaemon(true);
        fetcher.start();
        long passed = 0;
        long nextProgress = PROGRESS_EVERY;
        try {
            while (true) {
                Object next = batches.take();
                if (next == END) {
                    return passed;
                }
                if (next instanceof Throwable) {
                    throw new IOException(
                            "Reading changelog '" + topic + "' failed: " + next, (Throwable) next);
                }
                @SuppressWarnings("unchecked")
                List<D> batch = (List<D>) next;
                for (D decoded : batch) {
                    if (decoded != null) {
                        applier.apply(decoded);
                    }
                }
                passed += batch.size();
                if (passed >= nextProgress) {
                    progress.accept(passed);
                    nextProgress = passed + PROGRESS_EVERY;
                }
            }
        } finally {
            stop.set(true);
            batches.clear(); // unblocks a fetcher waiting to hand over
            fetcher.join(Duration.ofSeconds(30).toMillis());
        }
    }

    /**
     * The fetch thread: hands over batches of owned records up to the end offsets present at start,
     * then {@link #END}, or the failure.
     */
    private <D> void fetch(Decoder<D> decoder, BlockingQueue<Object> batches, AtomicBoolean stop) {
        Object last = END;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        consumerProperties(),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
            List<TopicPartition> owned = ownedPartitions();
            consumer.assign(owned);
            consumer.seekToBeginning(owned);
            Map<TopicPartition, Long> end = consumer.endOffsets(owned);
            long[] endOf = new long[partitions];
            end.forEach((tp, offset) -> endOf[tp.partition()] = offset);
            List<TopicPartition> remaining = new ArrayList<>();
            for (TopicPartition tp : owned) {
                if (end.get(tp) > consumer.position(tp)) {
                    remaining.add(tp);
                } else {
                    consumer.pause(List.of(tp));
                }
            }
            while (!remaining.isEmpty() && !stop.get()) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(POLL);
                List<ConsumerRecord<byte[], byte[]>> mine = new ArrayList<>(polled.count());
                for (ConsumerRecord<byte[], byte[]> record : polled) {
                    byte[] key = record.key();
                    if (record.offset() < endOf[record.partition()]
                            && key != null
                            && key.length >= 3
                            && range.contains(ChangelogKeys.keyGroup(key))) {
                        mine.add(record);
                    }
                }
                List<D> batch = new ArrayList<>(mine.size());
                for (ConsumerRecord<byte[], byte[]> record : byKeyGroup(mine)) {
                    batch.add(decoder.decode(record.key(), record.value()));
                }
                if (!batch.isEmpty() && !handOver(batches, batch, stop)) {
                    return;
                }
                List<TopicPartition> done = new ArrayList<>();
                for (TopicPartition tp : remaining) {
                    if (consumer.position(tp) >= endOf[tp.partition()]) {
                        done.add(tp);
                    }
                }
                if (!done.isEmpty()) {
                    consumer.pause(done);
                    remaining.removeAll(done);
                }
            }
        } catch (Throwable t) {
            last = t;
        }
        handOver(batches, last, stop);
    }

    /**
     * The records grouped by key group, in their order within each group (a stable counting sort; a
     * key's changes stay in offset order). The heap state backend keeps one hash map per key group:
     * filling one map at a time keeps it, and its incremental rehashing, in the CPU cache, where
     * records in write order would touch a different map with almost every put.
     */
    private ConsumerRecord<byte[], byte[]>[] byKeyGroup(
            List<ConsumerRecord<byte[], byte[]>> records) {
        int first = range.getStartKeyGroup();
        int[] start = new int[range.getNumberOfKeyGroups() + 1];
        for (ConsumerRecord<byte[], byte[]> record : records) {
            start[ChangelogKeys.keyGroup(record.key()) - first + 1]++;
        }
        for (int i = 1; i < start.length; i++) {
            start[i] += start[i - 1];
        }
        @SuppressWarnings("unchecked")
        ConsumerRecord<byte[], byte[]>[] sorted = new ConsumerRecord[records.size()];
        for (ConsumerRecord<byte[], byte[]> record : records) {
            sorted[start[ChangelogKeys.keyGroup(record.key()) - first]++] = record;
        }
        return sorted;
    }

    /** Puts {@code item} in the queue unless the restore stopped; false if it stopped. */
    private static boolean handOver(
            BlockingQueue<Object> batches, Object item, AtomicBoolean stop) {
        try {
            while (!stop.get()) {
                if (batches.offer(item, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    private Properties consumerProperties() {
        Properties props = connection.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "20000");
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 << 20));
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20));
        props.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, Integer.toString(1 << 20));
        props.put(ConsumerConfig.CHECK_CRCS_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "fkk-restore-" + topic);
        return props;
    }
}
