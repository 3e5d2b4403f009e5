package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Snapshot I/O of the operator's {@link TableValueStore}s in Flink checkpoints: the tables go to
 * the operator's raw keyed state, key group by key group ({@code [number of tables]} then per table
 * its state name, number of entries and entries), and come back from it when a job restarts from a
 * Flink checkpoint — into the states that then declare them.
 *
 * @param <K> the key type
 */
@Internal
final class TableSnapshots<K> {

    private static final Logger LOG = LoggerFactory.getLogger(TableSnapshots.class);

    private final FlinkKeyedRuntime<K> runtime;
    private final ChangelogSettings settings;
    private final StateRegistry<K> registry;
    private final int maxParallelism;
    private final KeyGroupRange keyGroupRange;

    /**
     * Tables restored from a Flink checkpoint's raw keyed state, by state name, until the states
     * are declared: per key group, its number, the number of entries and the entries.
     */
    private Map<String, DataOutputSerializer> restored = new LinkedHashMap<>();

    TableSnapshots(
            FlinkKeyedRuntime<K> runtime, ChangelogSettings settings, StateRegistry<K> registry) {
        this.runtime = runtime;
        this.settings = settings;
        this.registry = registry;
        this.maxParallelism = runtime.maxParallelism();
        this.keyGroupRange = runtime.keyGroupRange();
    }

    /**
     * A table for a state's values, with a segment per changelog partition this subtask owns (the
     * restore's fetch threads fill one segment each), for values of {@code serializer}.
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

    /** Reads the tables a Flink checkpoint holds (from the operator's {@code initializeState}). */
    void read(StateInitializationContext context) throws Exception {
        FlinkKeyedRuntime.readRawKeyedState(
                context,
                (keyGroup, in) -> {
                    int tables = in.readInt();
                    for (int t = 0; t < tables; t++) {
                        String name = in.readUTF();
                        int entries = in.readInt();
                        DataOutputSerializer out =
                                restored.computeIfAbsent(
                                        name, n -> new DataOutputSerializer(1 << 16));
                        out.writeInt(keyGroup);
                        out.writeInt(entries);
                        StringValueTable.copyEntries(in, entries, out);
                    }
                });
    }

    /** Writes the table states to the operator's raw keyed state, key group by key group. */
    void write(StateSnapshotContext context) throws Exception {
        List<LoggedValueState<K, ?>> tables = registry.tableStates();
        if (tables.isEmpty()) {
            return;
        }
        // the stream's key groups are the backend's, this subtask's range
        StringValueTable.Grouped[] grouped = new StringValueTable.Grouped[tables.size()];
        for (int i = 0; i < grouped.length; i++) {
            StringValueTable table = table(tables.get(i));
            table.compactIfSparse();
            grouped[i] =
                    table.group(keyGroupRange.getStartKeyGroup(), keyGroupRange.getEndKeyGroup());
        }
        DataOutputSerializer scratch = new DataOutputSerializer(64);
        FlinkKeyedRuntime.writeRawKeyedState(
                context,
                (keyGroup, out) -> {
                    out.writeInt(grouped.length);
                    for (int i = 0; i < grouped.length; i++) {
                        LoggedValueState<K, ?> state = tables.get(i);
                        out.writeUTF(state.name);
                        table(state)
                                .writeKeyGroup(
                                        grouped[i], keyGroup, state.serializer(), scratch, out);
                    }
                });
    }

    /**
     * After the states were declared on a restart from a Flink checkpoint: tables restored from it
     * go to the states that now declare them (into their table, or into their store when the state
     * is no longer kept in a table, e.g. now with a TTL); values of table states that a checkpoint
     * kept in Flink's state move into the table.
     */
    @SuppressWarnings("unchecked")
    void adopt() throws Exception {
        for (Map.Entry<String, DataOutputSerializer> entry : restored.entrySet()) {
            ChangelogState state = registry.get(entry.getKey());
            if (!(state instanceof LoggedValueState)) {
                LOG.warn(
                        "Dropping state '{}' of the checkpoint: operator '{}' declares no value"
                                + " state of that name",
                        entry.getKey(),
                        registry.scope());
                continue;
            }
            LoggedValueState<K, Object> value = (LoggedValueState<K, Object>) state;
            boolean isTable = value.store() instanceof TableValueStore;
            TypeSerializer<?> serializer = value.adoptedSerializer();
            StringValueTable target = isTable ? table(value) : newTable(serializer);
            DataOutputSerializer bytes = entry.getValue();
            DataInputDeserializer in =
                    new DataInputDeserializer(bytes.getSharedBuffer(), 0, bytes.length());
            while (in.available() > 0) {
                int keyGroup = in.readInt();
                int entries = in.readInt();
                target.read(in, keyGroup, entries, serializer);
            }
            if (!isTable) {
                target.forEach(
                        (key, v) -> {
                            runtime.setCurrentKey(key);
                            value.adopt(v);
                        });
            }
        }
        restored = null;
        for (LoggedValueState<K, ?> state : registry.tableStates()) {
            TableValueStore<?> store = StateRegistry.tableStore(state);
            for (K key : runtime.keysOf(state.name)) {
                runtime.setCurrentKey(key);
                store.moveCurrentKeyFromFlink();
            }
        }
    }

    /** Drops what was read: the job restores from Kafka instead. */
    void discard() {
        restored = null;
    }

    private static StringValueTable table(LoggedValueState<?, ?> state) {
        return StateRegistry.tableStore(state).table();
    }
}
