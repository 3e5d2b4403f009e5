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
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

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

    /**
     * Told, on the fetch thread that reads an owned partition and before its first record, how far
     * the restore of that partition is: updated by that thread before each owned record is decoded.
     */
    @FunctionalInterface
    public interface Expectation {
        void expect(int partition, PartitionProgress progress);
    }

    /** How far the restore of one owned partition is (read and written by its fetch thread). */
    public static final class PartitionProgress {
        private final long expected;
        private long passed;

        PartitionProgress(long expected) {
            this.expected = expected;
        }

        /**
         * About how many records the partition holds for the subtask: its end offset times the
         * share of its key groups the subtask owns (keys spread evenly over key groups).
         */
        public long expected() {
            return expected;
        }

        /** Owned records of the partition read so far, including the one being decoded. */
        public long passed() {
            return passed;
        }

        /** One more owned record read. */
        void pass() {
            passed++;
        }
    }

    private static final Duration POLL = Duration.ofMillis(200);
    private static final long PROGRESS_EVERY = 100_000;

    /**
     * Fetch threads at most (each with a consumer): parsing the records is most of the restore's
     * work, and two threads parse twice as many on two cores.
     */
    static final int FETCH_THREADS = 2;

    /** Batches read ahead of the restoring thread, per fetch thread. */
    private static final int QUEUED_BATCHES = 4;

    /** Marks the end of the changelog in the hand-over queue. */
    private static final Object END = new Object();

    private final KafkaConnection connection;
    private final String topic;
    private final int partitions;
    private final int maxParallelism;
    private final KeyGroupRange range;

    /**
     * The last commit marker read in each owned partition ({@link ChangelogKeys#COMMIT_MARKER}), by
     * partition; each written by the one fetch thread that reads the partition.
     */
    private final Map<Integer, byte[]> markers = new ConcurrentHashMap<>();

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

    /**
     * After {@link #restore}: the commit marker each owned partition holds last (the value the
     * writer wrote), by partition; partitions without one are absent.
     */
    public Map<Integer, byte[]> commitMarkers() {
        return Collections.unmodifiableMap(new TreeMap<>(markers));
    }

    /** The partitions that can hold key groups of {@code range}. */
    public List<TopicPartition> ownedPartitions() {
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
                () -> (recordKey, value) -> new byte[][] {recordKey, value},
                record -> ChangelogKeys.keyGroup(record[0]),
                record -> sink.accept(record[0], record[1]),
                progress);
    }

    /**
     * Like {@link #restore(Sink, LongConsumer)}, with each record decoded on a fetch thread and
     * applied on the calling thread.
     *
     * <p>The decoded records of each poll go to {@code applier} grouped by key group ({@code
     * keyGroupOf}: a decoded record's key group), in their order within each group: a key's changes
     * stay in offset order. The heap state backend keeps one hash map per key group: filling one
     * map at a time keeps it, and its incremental rehashing, in the CPU cache, where records in
     * write order would touch a different map with almost every put. Records a decoder applies
     * itself (decoded to {@code null}) are not grouped: they cost one pass over the poll.
     *
     * <p>The owned partitions are split among up to {@link #FETCH_THREADS} fetch threads, each with
     * a consumer and a decoder of its own (from {@code decoders}), so parsing and decoding run in
     * parallel. A partition is read by one thread only, in offset order: a decoder may apply
     * records of its partitions itself (and return null), touching nothing another thread's
     * partitions use.
     *
     * @return how many owned records were read (including those decoded to {@code null})
     */
    public <D> long restore(
            Supplier<Decoder<D>> decoders,
            ToIntFunction<? super D> keyGroupOf,
            Applier<D> applier,
            LongConsumer progress)
            throws Exception {
        return restore(decoders, keyGroupOf, applier, progress, (partition, restored) -> {});
    }

    /**
     * {@link #restore(Supplier, ToIntFunction, Applier, LongConsumer)}, telling {@code expected}
     * about each owned partition before reading it: how many records it holds for the subtask and
     * how many were read so far, so what a decoder fills can be sized for them.
     */
    public <D> long restore(
            Supplier<Decoder<D>> decoders,
            ToIntFunction<? super D> keyGroupOf,
            Applier<D> applier,
            LongConsumer progress,
            Expectation expected)
            throws Exception {
        List<List<TopicPartition>> split = splitAmongThreads(ownedPartitions());
        BlockingQueue<Object> batches = new ArrayBlockingQueue<>(QUEUED_BATCHES * split.size());
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> fetchers = new ArrayList<>();
        for (int i = 0; i < split.size(); i++) {
            List<TopicPartition> assigned = split.get(i);
            Decoder<D> decoder = decoders.get();
            Thread fetcher =
                    new Thread(
                            () -> fetch(assigned, decoder, keyGroupOf, expected, batches, stop),
                            "fkk-changelog-restore-" + topic + "-" + i);
            fetcher.setDaemon(true);
            fetchers.add(fetcher);
        }
        fetchers.forEach(Thread::start);
        int running = fetchers.size();
        long passed = 0;
        long nextProgress = PROGRESS_EVERY;
        try {
            while (running > 0) {
                Object next = batches.take();
                if (next == END) {
                    running--;
                    continue;
                }
                if (next instanceof Throwable) {
                    throw new IOException(
                            "Reading changelog '" + topic + "' failed: " + next, (Throwable) next);
                }
                @SuppressWarnings("unchecked")
                Batch<D> batch = (Batch<D>) next;
                for (D decoded : batch.decoded) {
                    applier.apply(decoded);
                }
                passed += batch.read;
                if (passed >= nextProgress) {
                    progress.accept(passed);
                    nextProgress = passed + PROGRESS_EVERY;
                }
            }
            return passed;
        } finally {
            stop.set(true);
            batches.clear(); // unblocks fetchers waiting to hand over
            for (Thread fetcher : fetchers) {
                // also makes what a decoder applied itself visible to this thread
                fetcher.join(Duration.ofSeconds(30).toMillis());
            }
        }
    }

    /** The share of {@code partition}'s key groups that the subtask's range holds. */
    double ownedShare(int partition) {
        int inPartition = 0;
        int owned = 0;
        for (int keyGroup = 0; keyGroup < maxParallelism; keyGroup++) {
            if (ChangelogKeys.partitionOf(keyGroup, maxParallelism, partitions) == partition) {
                inPartition++;
                if (range.contains(keyGroup)) {
                    owned++;
                }
            }
        }
        return inPartition == 0 ? 0 : (double) owned / inPartition;
    }

    /** Owned partition {@code j} goes to fetch thread {@code j % threads}. */
    static List<List<TopicPartition>> splitAmongThreads(List<TopicPartition> owned) {
        int threads = Math.max(1, Math.min(FETCH_THREADS, owned.size()));
        List<List<TopicPartition>> split = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            split.add(new ArrayList<>());
        }
        for (int j = 0; j < owned.size(); j++) {
            split.get(j % threads).add(owned.get(j));
        }
        return split;
    }

    /**
     * A fetch thread: hands over batches of records of its partitions up to the end offsets present
     * at start, then {@link #END}, or the failure.
     */
    private <D> void fetch(
            List<TopicPartition> assigned,
            Decoder<D> decoder,
            ToIntFunction<? super D> keyGroupOf,
            Expectation expected,
            BlockingQueue<Object> batches,
            AtomicBoolean stop) {
        Object last = END;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        consumerProperties(),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
            consumer.assign(assigned);
            Map<TopicPartition, Long> end = consumer.endOffsets(assigned);
            long[] endOf = new long[partitions];
            end.forEach((tp, offset) -> endOf[tp.partition()] = offset);
            List<TopicPartition> remaining = new ArrayList<>();
            PartitionProgress[] progress = new PartitionProgress[partitions];
            for (TopicPartition tp : assigned) {
                if (end.get(tp) > 0) {
                    // From offset 0 without asking for the log start offset first (a round trip);
                    // when records were deleted, auto.offset.reset=earliest moves on to it.
                    consumer.seek(tp, 0);
                    remaining.add(tp);
                    progress[tp.partition()] =
                            new PartitionProgress(
                                    Math.round(end.get(tp) * ownedShare(tp.partition())));
                    expected.expect(tp.partition(), progress[tp.partition()]);
                } else {
                    consumer.pause(List.of(tp));
                }
            }
            while (!remaining.isEmpty() && !stop.get()) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(POLL);
                Batch<D> batch = decodeOwned(polled, endOf, progress, decoder, keyGroupOf);
                if (batch.read > 0 && !handOver(batches, batch, stop)) {
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
     * The owned records of one poll, decoded, grouped by key group. A method of its own, not part
     * of {@link #fetch}'s loop: its compiled code serves every poll and the next restore in this
     * JVM, where a compilation of the whole fetch loop was redone in each restore (on-stack
     * replacement, which the loop's exit at the end of a restore invalidated).
     */
    private <D> Batch<D> decodeOwned(
            ConsumerRecords<byte[], byte[]> polled,
            long[] endOf,
            PartitionProgress[] progress,
            Decoder<D> decoder,
            ToIntFunction<? super D> keyGroupOf)
            throws Exception {
        List<D> decoded = new ArrayList<>();
        int read = 0;
        for (ConsumerRecord<byte[], byte[]> record : polled) {
            if (owned(record, endOf)) {
                read++;
                progress[record.partition()].pass();
                D d = decoder.decode(record.key(), record.value());
                if (d != null) {
                    decoded.add(d);
                }
            }
        }
        return new Batch<>(byKeyGroup(decoded, keyGroupOf, range), read);
    }

    /**
     * {@code decoded} grouped by key group (of {@code range}, ascending), in their order within
     * each group (a counting sort).
     */
    static <D> List<D> byKeyGroup(
            List<D> decoded, ToIntFunction<? super D> keyGroupOf, KeyGroupRange range) {
        if (decoded.size() < 2) {
            return decoded;
        }
        int first = range.getStartKeyGroup();
        int[] start = new int[range.getNumberOfKeyGroups() + 1];
        for (D d : decoded) {
            start[keyGroupOf.applyAsInt(d) - first + 1]++;
        }
        for (int i = 1; i < start.length; i++) {
            start[i] += start[i - 1];
        }
        Object[] sorted = new Object[decoded.size()];
        for (D d : decoded) {
            sorted[start[keyGroupOf.applyAsInt(d) - first]++] = d;
        }
        @SuppressWarnings("unchecked")
        List<D> grouped = (List<D>) Arrays.asList(sorted);
        return grouped;
    }

    /** Whether a polled record is one to restore: of an owned key group, before the end. */
    private boolean owned(ConsumerRecord<byte[], byte[]> record, long[] endOf) {
        byte[] key = record.key();
        if (record.offset() >= endOf[record.partition()] || key == null || key.length < 3) {
            return false;
        }
        if (ChangelogKeys.isCommitMarker(key)) {
            markers.put(record.partition(), record.value());
            return false;
        }
        int keyGroup = ChangelogKeys.keyGroup(key);
        if (ChangelogKeys.partitionOf(keyGroup, maxParallelism, partitions) != record.partition()) {
            // Fetch threads restore the partitions they read into state of their own; a record
            // in another partition than its key group's would be restored by the wrong thread.
            throw new IllegalStateException(
                    String.format(
                            Locale.ROOT,
                            "Changelog '%s' holds a record of key group %d in partition %d, where"
                                    + " the job puts it in partition %d: the changelog was written"
                                    + " with another max parallelism (now %d) or partition count"
                                    + " (now %d). Restore with the max parallelism that wrote it,"
                                    + " or start from an empty changelog topic",
                            topic,
                            keyGroup,
                            record.partition(),
                            ChangelogKeys.partitionOf(keyGroup, maxParallelism, partitions),
                            maxParallelism,
                            partitions));
        }
        return range.contains(keyGroup);
    }

    /** Records decoded from one poll, and how many owned records the poll had. */
    private static final class Batch<D> {
        final List<D> decoded;
        final int read;

        Batch(List<D> decoded, int read) {
            this.decoded = decoded;
            this.read = read;
        }
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
        Properties props = BoundedReads.consumerProperties(connection);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "20000");
        // Up to 4 MiB per partition and fetch: a first response arrives sooner than with larger
        // ones, and larger ones do not read faster, since parsing, not fetching, bounds a restore.
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 << 20));
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(4 << 20));
        props.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, Integer.toString(1 << 20));
        props.put(ConsumerConfig.CHECK_CRCS_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "fkk-restore-" + topic);
        return props;
    }
}
