package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.state.RestoreListener;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.state.KeyGroupRange;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The restore of one operator's states from Kafka alone (a start without a Flink checkpoint): waits
 * until this job's changelog writer owns the changelog, reads the changelog partitions of the
 * subtask's key groups ({@link ChangelogRestorer}, up to two fetch threads), applies each record of
 * this operator to its declared state, and checks that every partition ends with the commit the
 * positions topic holds. Records of states not declared yet are kept in the {@link StateRegistry}
 * and applied when the function declares them.
 *
 * @param <K> the key type
 */
@Internal
final class StateRestore<K> {

    private static final Logger LOG = LoggerFactory.getLogger(StateRestore.class);

    private final FlinkKeyedRuntime<K> runtime;
    private final ChangelogSettings settings;
    private final StateRegistry<K> registry;
    private final RestoreListener listener;
    private final TypeSerializer<K> keySerializer;
    private final Counter restoredRecords;
    private long restoreMillis;

    StateRestore(
            FlinkKeyedRuntime<K> runtime,
            ChangelogSettings settings,
            StateRegistry<K> registry,
            RestoreListener listener) {
        this.runtime = runtime;
        this.settings = settings;
        this.registry = registry;
        this.listener = listener;
        this.keySerializer = runtime.keySerializer();
        var group = runtime.metricGroup().addGroup("fkk").addGroup("changelog");
        this.restoredRecords = group.counter("restoredRecords");
        group.gauge("restoreMillis", () -> restoreMillis);
    }

    /** Restores the declared states (and keeps the records of undeclared ones). */
    void restore() throws Exception {
        // Once this job's writer owns the changelog, nothing else commits: every subtask reads
        // the same, final commit.
        PositionsTopic.Snapshot positions =
                PositionsTopic.awaitOwner(
                        settings.connection(),
                        settings.positionsTopic(),
                        runtime.jobId(),
                        ChangelogSettings.OWNER_TIMEOUT);
        long start = System.nanoTime();
        int subtask = runtime.subtask();
        KeyGroupRange range = runtime.keyGroupRange();
        ChangelogState[] declared = registry.states().toArray(new ChangelogState[0]);
        ChangelogRestorer restorer =
                new ChangelogRestorer(
                        settings.connection(),
                        settings.changelogTopic(),
                        settings.changelogPartitions(),
                        runtime.maxParallelism(),
                        range);
        int firstPartition = restorer.ownedPartitions().get(0).partition();
        List<StringValueTable> tables = registry.tables();
        // Keys and values are decoded on the restorer's fetch threads (with serializer copies);
        // this thread only puts them into the state backend. Table states are restored on the
        // fetch threads themselves (each fills the table segments of its partitions): a table
        // insert costs less than handing the record over.
        long read;
        try {
            read =
                    restorer.<Restored<K>>restore(
                            () -> decoder(declared),
                            restored -> restored.keyGroup,
                            restored -> {
                                if (restored.state == null) { // a state not declared yet
                                    registry.keepUndeclared(restored.name, restored.record);
                                    return;
                                }
                                // the key's hash is left to the state map
                                runtime.setCurrentKeyAndKeyGroup(restored.key, restored.keyGroup);
                                restored.state.restoreDecoded(restored.decoded);
                            },
                            count -> {
                                if (listener != null) {
                                    listener.onProgress(subtask, count, false);
                                }
                            },
                            (partition, restored) -> {
                                for (StringValueTable table : tables) {
                                    table.expectRestore(partition - firstPartition, restored);
                                }
                            });
        } finally {
            tables.forEach(StringValueTable::endRestore);
        }
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
                registry.scope(),
                range,
                settings.changelogTopic(),
                restoreMillis);
    }

    /** Applies the restored records of a state declared after the restore. */
    void applyUndeclared(ChangelogState state) throws Exception {
        List<byte[][]> records = registry.takeUndeclared(state);
        if (records == null) {
            return;
        }
        Object current = runtime.currentKey();
        Object decoding = state.newDecoding();
        DataInputDeserializer keyInput = new DataInputDeserializer();
        for (byte[][] record : records) {
            int start = ChangelogKeys.userKeyStart(record[0]);
            int end = ChangelogKeys.userKeyEnd(record[0]);
            keyInput.setBuffer(record[0], start, end - start);
            runtime.setCurrentKey(keySerializer.deserialize(keyInput));
            state.restoreDecoded(state.decode(decoding, record[0], end, record[1]));
        }
        if (current != null) {
            runtime.setCurrentKey(current);
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
                if (!ChangelogKeys.hasNamePrefix(recordKey, registry.scopeBytes())) {
                    return null; // another operator's
                }
                for (ChangelogState state : declared) {
                    if (state.isOtherVersion(recordKey)) {
                        throw otherTtlVersion(state);
                    }
                }
                return new Restored<>(
                        ChangelogKeys.stateName(recordKey),
                        ChangelogKeys.keyGroup(recordKey),
                        new byte[][] {recordKey, value});
            }
            ChangelogState state = declared[index];
            int start = ChangelogKeys.userKeyStart(recordKey);
            int end = ChangelogKeys.userKeyEnd(recordKey);
            // as the writer computed it (the restorer picked the record by it)
            int keyGroup = ChangelogKeys.keyGroup(recordKey);
            if (StateRegistry.isTable(state)) {
                // This thread's partitions have table segments of their own.
                TableValueStore<?> table = StateRegistry.tableStore(state);
                int chars = asciiStart(recordKey, start, end);
                if (chars >= 0
                        && table.restoreLong(recordKey, chars, end - chars, keyGroup, value)) {
                    return null;
                }
                Object decoded = state.decode(decodings[index], recordKey, end, value);
                if (decoded == LoggedValueState.TOMBSTONE) {
                    decoded = null;
                }
                if (chars >= 0) { // the key's UTF-8 bytes, as they are
                    table.restore(recordKey, chars, end - chars, keyGroup, decoded);
                } else {
                    keyInput.setBuffer(recordKey, start, end - start);
                    table.restore(
                            (String) fetchKeySerializer.deserialize(keyInput), keyGroup, decoded);
                }
                return null;
            }
            Object decoded = state.decode(decodings[index], recordKey, end, value);
            keyInput.setBuffer(recordKey, start, end - start);
            K key = fetchKeySerializer.deserialize(keyInput);
            return new Restored<>(state, key, keyGroup, decoded);
        };
    }

    private SuppressRestartsException otherTtlVersion(ChangelogState state) {
        boolean ttl = state.changelogName.endsWith(StateRegistry.TTL_SUFFIX);
        return new SuppressRestartsException(
                new IllegalStateException(
                        String.format(
                                "State '%s' of operator '%s' is declared %s a TTL, but the"
                                        + " changelog holds it %s one: give the state with the"
                                        + " changed TTL another name, or start a new changelog"
                                        + " topic",
                                state.name,
                                registry.scope(),
                                ttl ? "with" : "without",
                                ttl ? "without" : "with")));
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

        Restored(String name, int keyGroup, byte[][] record) {
            this.state = null;
            this.key = null;
            this.keyGroup = keyGroup;
            this.decoded = null;
            this.name = name;
            this.record = record;
        }
    }
}
