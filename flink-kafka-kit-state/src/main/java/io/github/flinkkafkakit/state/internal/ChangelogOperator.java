package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.Stage;
import io.github.flinkkafkakit.core.internal.RawKeyedStateTimers;
import io.github.flinkkafkakit.state.ChangelogCounter;
import io.github.flinkkafkakit.state.ChangelogFunction;
import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.KeyGroupStatePartitionStreamProvider;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.KeyedStateCheckpointOutputStream;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Runs a {@link ChangelogFunction} with changelog-backed state.
 *
 * <ul>
 *   <li>State lives in Flink's keyed state backend (so Flink checkpoints and savepoints work as
 *       usual); the handles record which keys changed. A {@code ValueState} with String keys and no
 *       TTL on the heap backend keeps its values in a {@link StringValueTable} instead, which this
 *       operator writes to Flink's checkpoints as raw keyed state, per key group.
 *   <li>{@link #prepareSnapshotPreBarrier}: the latest value of each changed key (or a tombstone)
 *       goes to the writes side output — before the barrier, so the single transactional writer
 *       commits it with checkpoint N; then {@link ChangelogFunction#onCheckpoint} runs for each
 *       changed key (coalesced outputs).
 *   <li>{@link #open}: when the job started without Flink state, the subtask rebuilds its state
 *       from the changelog topic: only the partitions and key groups it owns, {@code
 *       read_committed}.
 * </ul>
 */
@Internal
public final class ChangelogOperator<K, IN, OUT> extends KeyedProcessOperator<K, IN, OUT> {

    private static final long serialVersionUID = 1L;

    /** Room left in a record for its batch and record framing (lengths, attributes, headers). */
    private static final int RECORD_FRAMING = 512;

    private final ChangelogSettings settings;
    private final KafkaConnection connection;
    private final String topic;
    private final int partitions;

    /**
     * Bytes of key and value a changelog record may have: the writer's {@code max.request.size}
     * less room for the record's framing.
     */
    private final int maxChangeBytes;

    private final OutputTag<KafkaWrite> writesTag;

    /** The source's dead-letter topic, or null when its error policy has none. */
    private final String deadLetterTopic;

    private final RestoreListener listener;

    private transient boolean restoredFromFlink;
    private transient Map<String, ChangelogState> states;
    private transient TypeSerializer<K> keySerializer;
    private transient DataOutputSerializer buffer;
    private transient Collector<OUT> checkpointOutput;
    private transient StreamRecord<KafkaWrite> writeRecord;
    private transient Counter changesWritten;
    private transient Counter writesSaved;
    private transient Counter restoredRecords;
    private transient long restoreMillis;
    private transient int maxParallelism;
    private transient KeyGroupRange keyGroupRange;

    /**
     * The backend as the current key group's keeper (heap and RocksDB backends are), or null: also
     * sets a restored key with the key group the changelog record carries.
     */
    private transient AbstractKeyedStateBackend<K> keyContext;

    private transient InternalTimerService<VoidNamespace> ttlTimers;

    /**
     * Table states restored from a Flink checkpoint's raw keyed state, by state name, until the
     * function declares its states in {@link #open}: per key group, its number, the number of
     * entries and the entries as written.
     */
    private transient Map<String, DataOutputSerializer> restoredTables;

    public ChangelogOperator(
            ChangelogFunction<K, IN, OUT> function,
            ChangelogSettings settings,
            OutputTag<KafkaWrite> writesTag,
            String deadLetterTopic,
            RestoreListener listener) {
        super(function);
        this.settings = settings;
        this.maxChangeBytes = settings.maxRequestSize() - RECORD_FRAMING;
        this.deadLetterTopic = deadLetterTopic;
        this.connection = settings.connection();
        this.topic = settings.changelogTopic();
        this.partitions = settings.changelogPartitions();
        this.writesTag = writesTag;
        this.listener = listener;
    }

    /** Table states are written to raw keyed state; timers must not use that stream. */
    @Override
    protected boolean isUsingCustomRawKeyedState() {
        return true;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        restoredFromFlink = context.isRestored();
        restoredTables = new LinkedHashMap<>();
        for (KeyGroupStatePartitionStreamProvider partition : context.getRawKeyedStateInputs()) {
            int keyGroup = partition.getKeyGroupId();
            try (InputStream stream = partition.getStream()) {
                DataInputViewStreamWrapper in = new DataInputViewStreamWrapper(stream);
                int tables = in.readInt();
                for (int t = 0; t < tables; t++) {
                    String name = in.readUTF();
                    int entries = in.readInt();
                    DataOutputSerializer out =
                            restoredTables.computeIfAbsent(
                                    name, n -> new DataOutputSerializer(1 << 16));
                    out.writeInt(keyGroup);
                    out.writeInt(entries);
                    StringValueTable.copyEntries(in, entries, out);
                }
            }
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<ChangelogValueState<K, ?>> tables = tableStates();
        if (tables.isEmpty()) {
            return;
        }
        KeyedStateCheckpointOutputStream stream = context.getRawKeyedOperatorStateOutput();
        // the stream's key groups are the backend's, this subtask's range
        int first = keyGroupRange.getStartKeyGroup();
        int last = keyGroupRange.getEndKeyGroup();
        StringValueTable.Grouped[] grouped = new StringValueTable.Grouped[tables.size()];
        for (int i = 0; i < grouped.length; i++) {
            StringValueTable table = tables.get(i).table();
            table.compactIfSparse();
            grouped[i] = table.group(first, last);
        }
        DataOutputViewStreamWrapper out = new DataOutputViewStreamWrapper(stream);
        DataOutputSerializer scratch = new DataOutputSerializer(64);
        for (int kg : stream.getKeyGroupList()) {
            stream.startNewKeyGroup(kg);
            out.writeInt(grouped.length);
            for (int i = 0; i < grouped.length; i++) {
                ChangelogValueState<K, ?> state = tables.get(i);
                out.writeUTF(state.name);
                state.table().writeKeyGroup(grouped[i], kg, state.serializer(), scratch, out);
            }
        }
    }

    /** The declared value states that keep their values in a {@link StringValueTable}. */
    private List<ChangelogValueState<K, ?>> tableStates() {
        List<ChangelogValueState<K, ?>> tables = new ArrayList<>();
        for (ChangelogState state : states.values()) {
            if (isTable(state)) {
                tables.add((ChangelogValueState<K, ?>) state);
            }
        }
        return tables;
    }

    /**
     * After the function declared its states: table states restored from a Flink checkpoint go to
     * the states that now declare them (into their table, or into Flink's state when the state is
     * no longer kept in a table, e.g. now with a TTL); values of table states that a checkpoint
     * kept in Flink's state move into the table.
     */
    private void adoptFlinkRestoredState() throws Exception {
        for (Map.Entry<String, DataOutputSerializer> restored : restoredTables.entrySet()) {
            ChangelogState state = states.get(restored.getKey());
            if (!(state instanceof ChangelogValueState)) {
                LOG.warn(
                        "Dropping state '{}' of the checkpoint: the function declares no value"
                                + " state of that name",
                        restored.getKey());
                continue;
            }
            ChangelogValueState<K, ?> value = (ChangelogValueState<K, ?>) state;
            StringValueTable table = value.table();
            StringValueTable target = table != null ? table : newTable(value.serializer());
            DataOutputSerializer bytes = restored.getValue();
            DataInputDeserializer in =
                    new DataInputDeserializer(bytes.getSharedBuffer(), 0, bytes.length());
            while (in.available() > 0) {
                int keyGroup = in.readInt();
                int entries = in.readInt();
                target.read(in, keyGroup, entries, value.serializer());
            }
            if (table == null) {
                target.forEach(
                        (key, v) -> {
                            setCurrentKey(key);
                            value.restoreDecoded(v);
                        });
            }
        }
        restoredTables = null;
        KeyedStateBackend<K> backend = getKeyedStateBackend();
        for (ChangelogValueState<K, ?> state : tableStates()) {
            List<K> keys = new ArrayList<>();
            backend.getKeys(state.name, VoidNamespace.INSTANCE)
                    .forEach(key -> keys.add(keySerializer.copy(key)));
            for (K key : keys) {
                setCurrentKey(key);
                state.moveCurrentKeyToTable();
            }
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void open() throws Exception {
        CheckpointSettings.check(
                getContainingTask().getJobConfiguration(),
                settings.guarantee(),
                settings.transactionTimeout());
        states = new LinkedHashMap<>();
        keySerializer = (TypeSerializer<K>) getKeyedStateBackend().getKeySerializer();
        buffer = new DataOutputSerializer(64);
        checkpointOutput =
                new Collector<>() {
                    @Override
                    public void collect(OUT record) {
                        output.collect(new StreamRecord<>(record));
                    }

                    @Override
                    public void close() {}
                };
        writeRecord = new StreamRecord<>(null);
        maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        keyGroupRange =
                KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                        maxParallelism,
                        getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks(),
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        if (getKeyedStateBackend() instanceof AbstractKeyedStateBackend) {
            keyContext = (AbstractKeyedStateBackend<K>) getKeyedStateBackend();
        }
        var group = getMetricGroup().addGroup("fkk").addGroup("changelog");
        changesWritten = group.counter("changesWritten");
        writesSaved = group.counter("writesSaved");
        restoredRecords = group.counter("restoredRecords");
        group.gauge("restoreMillis", () -> restoreMillis);
        ttlTimers =
                getInternalTimerService(
                        "fkk-changelog-ttl", VoidNamespaceSerializer.INSTANCE, new TtlTrigger());
        ((ChangelogFunction<K, IN, OUT>) userFunction).attach(new Context());
        super.open();
        RawKeyedStateTimers.check(getKeyedStateBackend(), "Changelog state");
        if (restoredFromFlink) {
            adoptFlinkRestoredState();
        } else {
            restoreFromKafka();
        }
    }

    private void restoreFromKafka() throws Exception {
        if (states.isEmpty()) {
            return;
        }
        // Once this job's writer owns the changelog, nothing else commits: every subtask reads
        // the same, final commit.
        PositionsTopic.Snapshot positions =
                PositionsTopic.awaitOwner(
                        connection,
                        settings.positionsTopic(),
                        getRuntimeContext().getJobInfo().getJobId().toString(),
                        ChangelogSettings.OWNER_TIMEOUT);
        long start = System.nanoTime();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        KeyGroupRange range = keyGroupRange;
        ChangelogState[] declared = states.values().toArray(new ChangelogState[0]);
        ChangelogRestorer restorer =
                new ChangelogRestorer(connection, topic, partitions, maxParallelism, range);
        if (tableStates().size() == states.size()) {
            restorer.inPartitionOrder(); // no heap state maps to fill one at a time
        }
        // Keys and values are decoded on the restorer's fetch threads (with serializer copies);
        // this thread only puts them into the state backend. Table states are restored on the
        // fetch threads themselves (each fills the table segments of its partitions): a table
        // insert costs less than handing the record over.
        long read =
                restorer.<Restored<K>>restore(
                        () -> decoder(declared),
                        restored -> {
                            // the key's hash is left to the state map
                            if (keyContext != null) {
                                keyContext.setCurrentKeyAndKeyGroup(
                                        restored.key, restored.keyGroup);
                            } else {
                                setCurrentKey(restored.key);
                            }
                            restored.state.restoreDecoded(restored.decoded);
                        },
                        count -> {
                            if (listener != null) {
                                listener.onProgress(subtask, count, false);
                            }
                        });
        if (settings.exactlyOnce()) {
            checkCommitMarkers(positions.commit(), restorer.commitMarkers(), restorer);
        }
        restoredRecords.inc(read);
        restoreMillis = (System.nanoTime() - start) / 1_000_000;
        if (listener != null) {
            listener.onProgress(subtask, read, true);
            listener.onRestored(subtask, read, restoreMillis);
        }
        LOG.info(
                "Restored {} changelog records of key groups {} from '{}' in {} ms",
                read,
                range,
                topic,
                restoreMillis);
    }

    /**
     * Decodes changelog records on one restore fetch thread, with a key serializer copy of its own;
     * restores table states itself.
     */
    private ChangelogRestorer.Decoder<Restored<K>> decoder(ChangelogState[] declared) {
        TypeSerializer<K> fetchKeySerializer = keySerializer.duplicate();
        DataInputDeserializer keyInput = new DataInputDeserializer();
        Object[] decodings = new Object[declared.length];
        for (int i = 0; i < declared.length; i++) {
            decodings[i] = declared[i].newDecoding();
        }
        return (recordKey, value) -> {
            int index = stateOf(recordKey, declared);
            if (index < 0) {
                return null; // a state this function no longer declares
            }
            ChangelogState state = declared[index];
            int[] bounds = ChangelogKeys.userKeyBounds(recordKey);
            // as the writer computed it (the restorer picked the record by it)
            int keyGroup = ChangelogKeys.keyGroup(recordKey);
            if (isTable(state)) {
                // This thread's partitions have table segments of their own.
                ChangelogValueState<?, ?> table = (ChangelogValueState<?, ?>) state;
                int chars = asciiStart(recordKey, bounds[0], bounds[1]);
                if (chars >= 0
                        && table.restoreLongToTable(
                                recordKey, chars, bounds[1] - chars, keyGroup, value)) {
                    return null;
                }
                Object decoded = state.decode(decodings[index], recordKey, bounds[1], value);
                if (chars >= 0) { // the key's UTF-8 bytes, as they are
                    table.restoreToTable(recordKey, chars, bounds[1] - chars, keyGroup, decoded);
                } else {
                    keyInput.setBuffer(recordKey, bounds[0], bounds[1] - bounds[0]);
                    table.restoreToTable(
                            (String) fetchKeySerializer.deserialize(keyInput), keyGroup, decoded);
                }
                return null;
            }
            Object decoded = state.decode(decodings[index], recordKey, bounds[1], value);
            keyInput.setBuffer(recordKey, bounds[0], bounds[1] - bounds[0]);
            K key = fetchKeySerializer.deserialize(keyInput);
            return new Restored<>(state, key, keyGroup, decoded);
        };
    }

    /**
     * Checks that every changelog partition this subtask read ends with the commit the positions
     * topic holds: positions and state of one commit. After the writer's take-over nothing else
     * commits, so a difference means the topics do not belong together (one re-created or
     * truncated, or written by something else).
     */
    private void checkCommitMarkers(
            Fields expected, Map<Integer, byte[]> markers, ChangelogRestorer restorer) {
        long seq = expected.getLong(CommitMarker.SEQ, 0);
        for (var partition : restorer.ownedPartitions()) {
            byte[] found = markers.get(partition.partition());
            String problem = null;
            if (found == null) {
                if (seq > 0) {
                    problem = "holds no commit marker";
                }
            } else {
                Fields marker = Fields.decode(found);
                if (marker.getLong(CommitMarker.SEQ, -1) != seq
                        || !Objects.equals(
                                marker.get(CommitMarker.GENERATION),
                                expected.get(CommitMarker.GENERATION))) {
                    problem = "ends with commit " + marker;
                }
            }
            if (problem != null) {
                throw new SuppressRestartsException(
                        new IllegalStateException(
                                String.format(
                                        "Changelog '%s' partition %d %s, but its positions topic"
                                                + " '%s' is at commit %s: state and positions"
                                                + " would not belong together (a topic"
                                                + " re-created, truncated or written by something"
                                                + " else). Restore both topics, or delete both"
                                                + " to start over",
                                        topic,
                                        partition.partition(),
                                        problem,
                                        settings.positionsTopic(),
                                        seq == 0 ? "none" : expected.toString())));
            }
        }
    }

    private static boolean isTable(ChangelogState state) {
        return state instanceof ChangelogValueState
                && ((ChangelogValueState<?, ?>) state).table() != null;
    }

    /**
     * Where the characters of a String serialized by Flink's {@code StringSerializer} in {@code
     * bytes[from..to)} start, when they are all ASCII (then each is one byte, as in UTF-8); else
     * -1.
     */
    static int asciiStart(byte[] bytes, int from, int to) {
        int at = from;
        int lengthPlusOne = 0;
        int shift = 0;
        while (at < to) { // the length + 1, 7 bits per byte, low bits first
            int b = bytes[at++] & 0xff;
            lengthPlusOne |= (b & 0x7f) << shift;
            if (b < 0x80) {
                break;
            }
            shift += 7;
        }
        if (lengthPlusOne - 1 != to - at) {
            return -1; // null, or a character of more than one byte
        }
        for (int i = at; i < to; i++) {
            if (bytes[i] < 0) {
                return -1;
            }
        }
        return at;
    }

    /** A changelog record decoded on the restore's fetch thread. */
    private static final class Restored<K> {
        final ChangelogState state;
        final K key;
        final int keyGroup;
        final Object decoded;

        Restored(ChangelogState state, K key, int keyGroup, Object decoded) {
            this.state = state;
            this.key = key;
            this.keyGroup = keyGroup;
            this.decoded = decoded;
        }
    }

    /**
     * The index of the state a changelog record belongs to, by its name prefix (no String per
     * record), or -1.
     */
    private static int stateOf(byte[] recordKey, ChangelogState[] declared) {
        for (int i = 0; i < declared.length; i++) {
            if (ChangelogKeys.hasPrefix(recordKey, declared[i].prefix)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    /**
     * Writes each changed key's latest values and runs {@link ChangelogFunction#onCheckpoint} for
     * it, one key at a time: one {@code setCurrentKey} per key, and the function reads the values
     * just written without a second state lookup. Changes {@code onCheckpoint} makes are written in
     * the same checkpoint.
     */
    @SuppressWarnings("unchecked")
    private void flush() throws Exception {
        List<ChangelogState> dirty = new ArrayList<>(states.size());
        for (ChangelogState state : states.values()) {
            if (state.isDirty()) {
                dirty.add(state);
            }
        }
        if (dirty.isEmpty()) {
            return;
        }
        int n = dirty.size();
        Set<Object>[] changed = new Set[n];
        long[] writesBefore = new long[n];
        for (int i = 0; i < n; i++) {
            changed[i] = dirty.get(i).takeChangedKeys();
            writesBefore[i] = dirty.get(i).writes;
        }
        Set<Object> keys = changed[0];
        if (n > 1) {
            keys = new LinkedHashSet<>();
            for (Set<Object> c : changed) {
                keys.addAll(c);
            }
        }
        ChangelogFunction<K, IN, OUT> function = (ChangelogFunction<K, IN, OUT>) userFunction;
        for (Object key : keys) {
            setCurrentKey(key);
            for (int i = 0; i < n; i++) {
                if (n == 1 || changed[i].contains(key)) {
                    dirty.get(i).flushCurrentKey(key);
                }
            }
            function.onCheckpoint((K) key, checkpointOutput);
            for (int i = 0; i < n; i++) {
                dirty.get(i).endKey();
            }
        }
        for (int i = 0; i < n; i++) {
            ChangelogState state = dirty.get(i);
            account(state, state.writes - writesBefore[i]);
            state.endFlush();
        }
        // State that onCheckpoint itself changed belongs to this checkpoint as well (Flink's
        // snapshot, taken right after, holds it): write it now, without calling onCheckpoint again.
        for (ChangelogState state : states.values()) {
            if (!state.isDirty()) {
                continue;
            }
            long before = state.writes;
            for (Object key : state.takeChangedKeys()) {
                setCurrentKey(key);
                state.flushCurrentKey(key);
                state.endKey();
            }
            account(state, state.writes - before);
            state.endFlush();
        }
    }

    private void account(ChangelogState state, long written) {
        changesWritten.inc(written);
        writesSaved.inc(Math.max(0, state.updates - written));
        state.updates = 0;
    }

    long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    void registerTtlTimer(long time) {
        ttlTimers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, time);
    }

    /** Expires TTL states of the timer's key (the timer service sets it as current key). */
    private final class TtlTrigger implements Triggerable<K, VoidNamespace> {
        @Override
        public void onEventTime(InternalTimer<K, VoidNamespace> timer) {}

        @Override
        public void onProcessingTime(InternalTimer<K, VoidNamespace> timer) throws Exception {
            for (ChangelogState state : states.values()) {
                state.onTtlTimer(timer.getTimestamp());
            }
        }
    }

    /**
     * A set for the keys a state changes between two flushes: for String keys a {@link
     * ChangedStringKeys} (one cache miss per mark, nothing retained), else a {@code LinkedHashSet}
     * of key copies.
     */
    Set<Object> newChangedKeys() {
        return hasStringKeys() ? new ChangedStringKeys() : new LinkedHashSet<>();
    }

    /** Whether state lives in Flink's heap backend (where a table holds it more compactly). */
    boolean hasHeapBackend() {
        return getKeyedStateBackend() instanceof HeapKeyedStateBackend;
    }

    /**
     * A table for a state's values, with a segment per changelog partition this subtask owns (see
     * {@link ChangelogRestorer#restore(java.util.function.Supplier, ChangelogRestorer.Applier,
     * java.util.function.LongConsumer)}), for values of {@code serializer}.
     */
    StringValueTable newTable(TypeSerializer<?> serializer) {
        int first = keyGroupRange.getStartKeyGroup();
        int firstPartition = ChangelogKeys.partitionOf(first, maxParallelism, partitions);
        int[] segmentOf = new int[keyGroupRange.getNumberOfKeyGroups()];
        for (int i = 0; i < segmentOf.length; i++) {
            segmentOf[i] =
                    ChangelogKeys.partitionOf(first + i, maxParallelism, partitions)
                            - firstPartition;
        }
        return new StringValueTable(first, segmentOf, serializer instanceof LongSerializer);
    }

    /** The key group of the current key (heap backend: what it computed in setCurrentKey). */
    int currentKeyGroup() {
        return keyContext.getCurrentKeyGroupIndex();
    }

    boolean hasStringKeys() {
        return keySerializer instanceof StringSerializer;
    }

    /** The current key, when {@link #hasStringKeys()}. */
    String currentStringKey() {
        return (String) getCurrentKey();
    }

    @SuppressWarnings("unchecked")
    K currentKeyCopy() {
        return keySerializer.copy((K) getCurrentKey());
    }

    <T> byte[] serializeValue(TypeSerializer<T> serializer, T value) throws IOException {
        return ChangelogState.serialize(serializer, value, buffer);
    }

    void writeChange(byte[] prefix, K key, byte[] mapKey, byte[] value) throws IOException {
        byte[] keyBytes = ChangelogState.serialize(keySerializer, key, buffer);
        int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism);
        KafkaWrite write = new KafkaWrite();
        write.topic = topic;
        write.partition = ChangelogKeys.partitionOf(keyGroup, maxParallelism, partitions);
        write.key = ChangelogKeys.recordKey(keyGroup, prefix, keyBytes, mapKey);
        write.value = value;
        int bytes = write.key.length + (value == null ? 0 : value.length);
        if (bytes > maxChangeBytes) {
            // The writer would fail with Kafka's RecordTooLargeException, naming neither the
            // state nor the fix.
            throw new IllegalStateException(
                    String.format(
                            Locale.ROOT,
                            "Changelog state '%s': a change of %,d bytes (key %,d, value %,d) is"
                                    + " more than the changelog writer sends (max.request.size less"
                                    + " %d): keep keys and state values smaller, or raise"
                                    + " max.request.size on the connection and max.message.bytes"
                                    + " of topic '%s'",
                            ChangelogKeys.stateName(write.key),
                            bytes,
                            write.key.length,
                            value == null ? 0 : value.length,
                            RECORD_FRAMING,
                            topic));
        }
        output.collect(writesTag, writeRecord.replace(write));
    }

    /** What {@link ChangelogFunction} uses to create its state handles. */
    private final class Context implements ChangelogFunction.ChangelogContext {

        private void register(ChangelogState state) {
            if (states.putIfAbsent(state.name, state) != null) {
                throw new IllegalStateException(
                        "Changelog state '" + state.name + "' is declared twice");
            }
        }

        @Override
        public <T> ValueState<T> value(
                String name,
                ValueState<T> flinkState,
                TypeSerializer<T> serializer,
                Duration ttl,
                ValueState<Long> lastUpdate) {
            ChangelogValueState<K, T> state =
                    new ChangelogValueState<>(
                            name,
                            flinkState,
                            serializer,
                            ChangelogOperator.this,
                            ttl == null ? 0 : ttl.toMillis(),
                            lastUpdate);
            register(state);
            return state;
        }

        @Override
        public <UK, UV> MapState<UK, UV> map(
                String name,
                MapState<UK, UV> flinkState,
                TypeSerializer<UK> keySerializer,
                TypeSerializer<UV> valueSerializer) {
            ChangelogMapState<K, UK, UV> state =
                    new ChangelogMapState<>(
                            name,
                            flinkState,
                            keySerializer,
                            valueSerializer,
                            ChangelogOperator.this);
            register(state);
            return state;
        }

        @Override
        public void deadLetter(byte[] key, byte[] value, Throwable reason) {
            if (deadLetterTopic == null) {
                throw new IllegalStateException(
                        "deadLetter(...) needs a dead-letter topic: give the source"
                                + " ErrorPolicy.deadLetter(topic)",
                        reason);
            }
            DeadLetter letter = new DeadLetter();
            letter.key = key;
            letter.value = value;
            letter.setFailure(Stage.PROCESS, reason);
            output.collect(
                    writesTag, new StreamRecord<>(KafkaWrite.deadLetter(deadLetterTopic, letter)));
        }

        @Override
        public ChangelogCounter counter(String name, ValueState<Long> flinkState) {
            ValueState<Long> value = value(name, flinkState, LongSerializer.INSTANCE, null, null);
            return new ChangelogCounter() {
                @Override
                public long add(long delta) throws Exception {
                    Long current = value.value();
                    long next = Math.addExact(current == null ? 0 : current, delta);
                    value.update(next);
                    return next;
                }

                @Override
                public long get() throws Exception {
                    Long current = value.value();
                    return current == null ? 0 : current;
                }

                @Override
                public void clear() {
                    value.clear();
                }
            };
        }
    }

    /** For tests: names of the declared states. */
    List<String> stateNames() {
        return new ArrayList<>(states.keySet());
    }
}
