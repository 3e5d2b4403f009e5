package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.internal.RawKeyedStateTimers;
import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ListState;
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
import org.apache.flink.streaming.api.operators.Triggerable;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
 * The Kafka-backed keyed state of one operator instance: the registry of its states, the flush of
 * their changes at each checkpoint barrier, their restore from the changelog (or adoption of a
 * Flink checkpoint), and the snapshot I/O of the states kept in the kit's own tables.
 *
 * <p>The operator (a {@link StateHost}) calls, in this order: {@link #initializeState} (from its
 * {@code initializeState}), {@link #open} (before its function opens: states are declared from then
 * on), {@link #restore} (once the function declared its states), {@link #flush} (in {@code
 * prepareSnapshotPreBarrier} and {@code finish}) and {@link #snapshotState} (from its {@code
 * snapshotState}).
 *
 * <p>Every record this operator writes to the changelog is scoped by the operator's uid: its state
 * names go to the changelog as {@code <uid>/<name>}, so operators of one job sharing a changelog
 * never read each other's records.
 *
 * @param <K> the key type
 */
@Internal
public final class ChangelogStates<K> {

    private static final Logger LOG = LoggerFactory.getLogger(ChangelogStates.class);

    /** Room left in a record for its batch and record framing (lengths, attributes, headers). */
    private static final int RECORD_FRAMING = 512;

    private final StateHost<K> host;
    private final ChangelogSettings settings;
    private final String scope;
    private final byte[] scopeBytes;
    private final RestoreListener listener;

    /**
     * Bytes of key and value a changelog record may have: the writer's {@code max.request.size}
     * less room for the record's framing.
     */
    private final int maxChangeBytes;

    private final Map<String, ChangelogState> states = new LinkedHashMap<>();

    private boolean restoredFromFlink;
    private boolean restored;
    private TypeSerializer<K> keySerializer;
    private DataOutputSerializer buffer;
    private Counter changesWritten;
    private Counter writesSaved;
    private Counter restoredRecords;
    private long restoreMillis;
    private int maxParallelism;
    private KeyGroupRange keyGroupRange;

    /**
     * The backend as the current key group's keeper (heap and RocksDB backends are), or null: also
     * sets a restored key with the key group the changelog record carries.
     */
    private AbstractKeyedStateBackend<K> keyContext;

    private InternalTimerService<VoidNamespace> ttlTimers;

    /**
     * Table states restored from a Flink checkpoint's raw keyed state, by state name, until the
     * states are declared: per key group, its number, the number of entries and the entries.
     */
    private Map<String, DataOutputSerializer> restoredTables = new LinkedHashMap<>();

    /**
     * Changelog records of this operator restored before their state was declared (a function that
     * declares a state after {@code open()}), by changelog state name, in changelog order: applied
     * when the state is declared.
     */
    private final Map<String, List<byte[][]>> undeclared = new LinkedHashMap<>();

    public ChangelogStates(
            StateHost<K> host, ChangelogSettings settings, String uid, RestoreListener listener) {
        this.host = host;
        this.settings = settings;
        this.scope = uid;
        this.scopeBytes = (uid + "/").getBytes(StandardCharsets.UTF_8);
        this.listener = listener;
        this.maxChangeBytes = settings.maxRequestSize() - RECORD_FRAMING;
    }

    // ---------------------------------------------------------------- lifecycle

    /** Reads the tables a Flink checkpoint holds in the operator's raw keyed state. */
    public void initializeState(StateInitializationContext context) throws Exception {
        restoredFromFlink = context.isRestored();
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

    /** Prepares for states to be declared (call before the operator's function opens). */
    @SuppressWarnings("unchecked")
    public void open() {
        CheckpointSettings.check(
                host.runtimeContext().getJobConfiguration(),
                settings.guarantee(),
                settings.transactionTimeout());
        KeyedStateBackend<K> backend = host.keyedStateBackend();
        keySerializer = (TypeSerializer<K>) backend.getKeySerializer();
        DeterministicKeys.check(keySerializer, scope);
        RawKeyedStateTimers.check(backend, "Kafka-backed state");
        buffer = new DataOutputSerializer(64);
        maxParallelism = host.runtimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        keyGroupRange =
                KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                        maxParallelism,
                        host.runtimeContext().getTaskInfo().getNumberOfParallelSubtasks(),
                        host.runtimeContext().getTaskInfo().getIndexOfThisSubtask());
        if (backend instanceof AbstractKeyedStateBackend) {
            keyContext = (AbstractKeyedStateBackend<K>) backend;
        }
        var group = host.metricGroup().addGroup("fkk").addGroup("changelog");
        changesWritten = group.counter("changesWritten");
        writesSaved = group.counter("writesSaved");
        restoredRecords = group.counter("restoredRecords");
        group.gauge("restoreMillis", () -> restoreMillis);
        ttlTimers =
                host.flinkTimerService(
                        "fkk-changelog-ttl", VoidNamespaceSerializer.INSTANCE, new TtlTrigger());
    }

    /**
     * After the operator's function declared its states: rebuilds them from the changelog when the
     * job started without Flink state, else adopts what Flink restored.
     */
    public void restore() throws Exception {
        if (restoredFromFlink) {
            adoptFlinkRestoredState();
        } else {
            restoreFromKafka();
        }
        restored = true;
    }

    /** Whether the operator restored its state from Flink's checkpoint (not from Kafka). */
    public boolean isRestoredFromFlink() {
        return restoredFromFlink;
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

    /** Writes the table states to the operator's raw keyed state, key group by key group. */
    public void snapshotState(StateSnapshotContext context) throws Exception {
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

    // ---------------------------------------------------------------- declaring states

    /** Registers a declared state (a second declaration of the same name returns the first). */
    @SuppressWarnings("unchecked")
    <S extends ChangelogState> S register(S state) throws Exception {
        ChangelogState existing = states.get(state.name);
        if (existing != null) {
            if (existing.getClass() != state.getClass()) {
                throw new IllegalStateException(
                        "State '"
                                + state.name
                                + "' of operator '"
                                + scope
                                + "' is declared twice, as two kinds of state");
            }
            return (S) existing;
        }
        states.put(state.name, state);
        if (restored) {
            applyUndeclared(state);
        }
        return state;
    }

    /** The changelog name of a state: scoped by the operator's uid. */
    String changelogName(String stateName) {
        return scope + "/" + stateName;
    }

    <T> ValueState<T> value(
            String name,
            ValueState<T> flinkState,
            TypeSerializer<T> serializer,
            Duration ttl,
            boolean touchOnRead,
            ValueState<Long> lastUpdate)
            throws Exception {
        return register(
                new ChangelogValueState<>(
                        name,
                        changelogName(name),
                        flinkState,
                        serializer,
                        this,
                        ttl == null ? 0 : ttl.toMillis(),
                        touchOnRead,
                        lastUpdate));
    }

    <UK, UV> MapState<UK, UV> map(
            String name,
            MapState<UK, UV> flinkState,
            TypeSerializer<UK> keySerializer,
            TypeSerializer<UV> valueSerializer)
            throws Exception {
        return register(
                new ChangelogMapState<>(
                        name,
                        changelogName(name),
                        flinkState,
                        keySerializer,
                        valueSerializer,
                        this));
    }

    <T> ListState<T> list(String name, ListState<T> flinkState, TypeSerializer<T> serializer)
            throws Exception {
        return register(
                new ChangelogListState<>(name, changelogName(name), flinkState, serializer, this));
    }

    /** Registers a state of the kit's own (timers), not declared by the function. */
    void registerInternal(ChangelogState state) throws Exception {
        register(state);
    }

    // ---------------------------------------------------------------- flush

    /** Told each key whose state changed, during {@link #flush}, with that key current. */
    @FunctionalInterface
    public interface FlushListener {
        void changed(Object key) throws Exception;
    }

    /**
     * Writes each changed key's latest values, one key at a time (one {@code setCurrentKey} per
     * key), telling {@code listener} after each key's values were written. Changes the listener
     * makes are written in the same flush, without telling it again.
     */
    @SuppressWarnings("unchecked")
    public void flush(FlushListener listener) throws Exception {
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
        for (Object key : keys) {
            host.setCurrentKey(key);
            for (int i = 0; i < n; i++) {
                if (n == 1 || changed[i].contains(key)) {
                    dirty.get(i).flushCurrentKey(key);
                }
            }
            if (listener != null) {
                listener.changed(key);
            }
            for (int i = 0; i < n; i++) {
                dirty.get(i).endKey();
            }
        }
        for (int i = 0; i < n; i++) {
            ChangelogState state = dirty.get(i);
            account(state, state.writes - writesBefore[i]);
            state.endFlush();
        }
        // State that the listener changed belongs to this checkpoint as well (Flink's snapshot,
        // taken right after, holds it): write it now, without telling the listener again.
        for (ChangelogState state : states.values()) {
            if (!state.isDirty()) {
                continue;
            }
            long before = state.writes;
            for (Object key : state.takeChangedKeys()) {
                host.setCurrentKey(key);
                state.flushCurrentKey(key);
                state.endKey();
            }
            account(state, state.writes - before);
            state.endFlush();
        }
        if (!undeclared.isEmpty()) {
            LOG.warn(
                    "Operator '{}' restored changelog records of states it has not declared: {}."
                            + " They are applied when the states are declared",
                    scope,
                    undeclared.keySet());
        }
    }

    private void account(ChangelogState state, long written) {
        changesWritten.inc(written);
        writesSaved.inc(Math.max(0, state.updates - written));
        state.updates = 0;
    }

    // ---------------------------------------------------------------- restore

    /**
     * After the states were declared: table states restored from a Flink checkpoint go to the
     * states that now declare them (into their table, or into Flink's state when the state is no
     * longer kept in a table, e.g. now with a TTL); values of table states that a checkpoint kept
     * in Flink's state move into the table.
     */
    private void adoptFlinkRestoredState() throws Exception {
        for (Map.Entry<String, DataOutputSerializer> restored : restoredTables.entrySet()) {
            ChangelogState state = states.get(restored.getKey());
            if (!(state instanceof ChangelogValueState)) {
                LOG.warn(
                        "Dropping state '{}' of the checkpoint: operator '{}' declares no value"
                                + " state of that name",
                        restored.getKey(),
                        scope);
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
                            host.setCurrentKey(key);
                            value.restoreDecoded(v);
                        });
            }
        }
        restoredTables = null;
        KeyedStateBackend<K> backend = host.keyedStateBackend();
        for (ChangelogValueState<K, ?> state : tableStates()) {
            List<K> keys = new ArrayList<>();
            backend.getKeys(state.name, VoidNamespace.INSTANCE)
                    .forEach(key -> keys.add(keySerializer.copy(key)));
            for (K key : keys) {
                host.setCurrentKey(key);
                state.moveCurrentKeyToTable();
            }
        }
    }

    private void restoreFromKafka() throws Exception {
        restoredTables = null;
        // Once this job's writer owns the changelog, nothing else commits: every subtask reads
        // the same, final commit.
        PositionsTopic.Snapshot positions =
                PositionsTopic.awaitOwner(
                        settings.connection(),
                        settings.positionsTopic(),
                        host.runtimeContext().getJobInfo().getJobId().toString(),
                        ChangelogSettings.OWNER_TIMEOUT);
        long start = System.nanoTime();
        int subtask = host.runtimeContext().getTaskInfo().getIndexOfThisSubtask();
        KeyGroupRange range = keyGroupRange;
        ChangelogState[] declared = states.values().toArray(new ChangelogState[0]);
        ChangelogRestorer restorer =
                new ChangelogRestorer(
                        settings.connection(),
                        settings.changelogTopic(),
                        settings.changelogPartitions(),
                        maxParallelism,
                        range);
        if (declared.length > 0 && tableStates().size() == declared.length) {
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
                            if (restored.state == null) { // a state not declared yet
                                undeclared
                                        .computeIfAbsent(restored.name, n -> new ArrayList<>())
                                        .add(restored.record);
                                return;
                            }
                            // the key's hash is left to the state map
                            if (keyContext != null) {
                                keyContext.setCurrentKeyAndKeyGroup(
                                        restored.key, restored.keyGroup);
                            } else {
                                host.setCurrentKey(restored.key);
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
                "Restored {} changelog records of operator '{}', key groups {}, from '{}' in {} ms",
                read,
                scope,
                range,
                settings.changelogTopic(),
                restoreMillis);
    }

    /** Applies the restored records of a state declared after the restore. */
    private void applyUndeclared(ChangelogState state) throws Exception {
        List<byte[][]> records = undeclared.remove(state.changelogName);
        if (records == null) {
            return;
        }
        Object current = host.getCurrentKey();
        Object decoding = state.newDecoding();
        DataInputDeserializer keyInput = new DataInputDeserializer();
        for (byte[][] record : records) {
            int[] bounds = ChangelogKeys.userKeyBounds(record[0]);
            keyInput.setBuffer(record[0], bounds[0], bounds[1] - bounds[0]);
            host.setCurrentKey(keySerializer.deserialize(keyInput));
            state.restoreDecoded(state.decode(decoding, record[0], bounds[1], record[1]));
        }
        if (current != null) {
            host.setCurrentKey(current);
        }
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
                if (!ChangelogKeys.hasNamePrefix(recordKey, scopeBytes)) {
                    return null; // another operator's
                }
                for (ChangelogState state : declared) {
                    if (state.isOtherVersion(recordKey)) {
                        throw new SuppressRestartsException(
                                new IllegalStateException(
                                        String.format(
                                                "State '%s' of operator '%s' is declared %s a"
                                                        + " TTL, but the changelog holds it %s"
                                                        + " one: give the state with the changed"
                                                        + " TTL another name, or start a new"
                                                        + " changelog topic",
                                                state.name,
                                                scope,
                                                state.changelogName.endsWith(
                                                                ChangelogValueState.TTL_SUFFIX)
                                                        ? "with"
                                                        : "without",
                                                state.changelogName.endsWith(
                                                                ChangelogValueState.TTL_SUFFIX)
                                                        ? "without"
                                                        : "with")));
                    }
                }
                return new Restored<>(
                        ChangelogKeys.stateName(recordKey), new byte[][] {recordKey, value});
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
                                        settings.changelogTopic(),
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

    /**
     * A changelog record decoded on the restore's fetch thread: for a declared state, or (state
     * null) the raw record of one not declared yet.
     */
    private static final class Restored<K> {
        final ChangelogState state;
        final K key;
        final int keyGroup;
        final Object decoded;
        final String name;
        final byte[][] record;

        Restored(ChangelogState state, K key, int keyGroup, Object decoded) {
            this.state = state;
            this.key = key;
            this.keyGroup = keyGroup;
            this.decoded = decoded;
            this.name = null;
            this.record = null;
        }

        Restored(String name, byte[][] record) {
            this.state = null;
            this.key = null;
            this.keyGroup = -1;
            this.decoded = null;
            this.name = name;
            this.record = record;
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

    // ---------------------------------------------------------------- for the states

    long now() {
        return host.currentProcessingTime();
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
        return host.keyedStateBackend() instanceof HeapKeyedStateBackend;
    }

    /**
     * A table for a state's values, with a segment per changelog partition this subtask owns (see
     * {@link ChangelogRestorer#restore(java.util.function.Supplier, ChangelogRestorer.Applier,
     * java.util.function.LongConsumer)}), for values of {@code serializer}.
     */
    StringValueTable newTable(TypeSerializer<?> serializer) {
        int first = keyGroupRange.getStartKeyGroup();
        int partitions = settings.changelogPartitions();
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
        return (String) host.getCurrentKey();
    }

    @SuppressWarnings("unchecked")
    K currentKeyCopy() {
        return keySerializer.copy((K) host.getCurrentKey());
    }

    /** Sets {@code key} as the operator's current key (a key a state's flush is about). */
    void setCurrentKey(Object key) {
        host.setCurrentKey(key);
    }

    <T> byte[] serializeValue(TypeSerializer<T> serializer, T value) throws IOException {
        return ChangelogState.serialize(serializer, value, buffer);
    }

    void writeChange(byte[] prefix, K key, byte[] mapKey, byte[] value) throws IOException {
        byte[] keyBytes = ChangelogState.serialize(keySerializer, key, buffer);
        int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism);
        KafkaWrite write = new KafkaWrite();
        write.topic = settings.changelogTopic();
        write.partition =
                ChangelogKeys.partitionOf(keyGroup, maxParallelism, settings.changelogPartitions());
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
                                    + " of topic '%s' (operator '%s')",
                            declaredName(ChangelogKeys.stateName(write.key)),
                            bytes,
                            write.key.length,
                            value == null ? 0 : value.length,
                            RECORD_FRAMING,
                            settings.changelogTopic(),
                            scope));
        }
        host.write(write);
    }

    /** A state's declared name from its changelog name ({@code <uid>/<name>[@ttl]}). */
    private String declaredName(String changelogName) {
        String name = changelogName.substring(scope.length() + 1);
        return name.endsWith(ChangelogValueState.TTL_SUFFIX)
                ? name.substring(0, name.length() - ChangelogValueState.TTL_SUFFIX.length())
                : name;
    }

    /** For tests: names of the declared states. */
    List<String> stateNames() {
        return new ArrayList<>(states.keySet());
    }
}
