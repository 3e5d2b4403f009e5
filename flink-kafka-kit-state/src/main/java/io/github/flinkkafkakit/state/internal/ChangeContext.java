package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a state layer of one operator needs to log its changes: the operator's current key, and the
 * changelog record a change becomes — key group, partition, record key {@code [key group][<uid>/
 * <state>][key][map key]} — sent to the changelog writer.
 *
 * @param <K> the key type
 */
@Internal
final class ChangeContext<K> {

    /** Room left in a record for its batch and record framing (lengths, attributes, headers). */
    static final int RECORD_FRAMING = 512;

    private final FlinkKeyedRuntime<K> runtime;
    private final ChangelogSettings settings;
    private final StateRegistry<K> registry;
    private final TypeSerializer<K> keySerializer;
    private final int maxParallelism;
    private final boolean stringKeys;
    private final DataOutputSerializer buffer = new DataOutputSerializer(64);

    /**
     * Bytes of key and value a changelog record may have: the writer's {@code max.request.size}
     * less room for the record's framing.
     */
    private final int maxChangeBytes;

    private final Counter changesWritten;
    private final Counter writesSaved;

    ChangeContext(
            FlinkKeyedRuntime<K> runtime, ChangelogSettings settings, StateRegistry<K> registry) {
        this.runtime = runtime;
        this.settings = settings;
        this.registry = registry;
        this.keySerializer = runtime.keySerializer();
        this.maxParallelism = runtime.maxParallelism();
        this.stringKeys = keySerializer instanceof StringSerializer;
        this.maxChangeBytes = settings.maxRequestSize() - RECORD_FRAMING;
        var group = runtime.metricGroup().addGroup("fkk").addGroup("changelog");
        this.changesWritten = group.counter("changesWritten");
        this.writesSaved = group.counter("writesSaved");
    }

    FlinkKeyedRuntime<K> runtime() {
        return runtime;
    }

    // ---------------------------------------------------------------- the current key

    boolean hasStringKeys() {
        return stringKeys;
    }

    /** The current key, when {@link #hasStringKeys()}. */
    String currentStringKey() {
        return (String) runtime.currentKey();
    }

    @SuppressWarnings("unchecked")
    K currentKeyCopy() {
        return keySerializer.copy((K) runtime.currentKey());
    }

    /**
     * A set for the keys a state changes between two flushes: for String keys a {@link
     * ChangedStringKeys} (one cache miss per mark, nothing retained), else a {@code LinkedHashSet}
     * of key copies.
     */
    Set<Object> newChangedKeys() {
        return stringKeys ? new ChangedStringKeys() : new LinkedHashSet<>();
    }

    // ---------------------------------------------------------------- changes

    <T> byte[] serialize(TypeSerializer<T> serializer, T value) throws IOException {
        return ChangelogState.serialize(serializer, value, buffer);
    }

    /**
     * Sends the change of {@code key} in the state whose record prefix is {@code prefix} ({@code
     * mapKey} null but for map entries and timers; {@code value} null for a tombstone).
     */
    void write(byte[] prefix, K key, byte[] mapKey, byte[] value) throws IOException {
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
                            registry.declaredName(ChangelogKeys.stateName(write.key)),
                            bytes,
                            write.key.length,
                            value == null ? 0 : value.length,
                            RECORD_FRAMING,
                            settings.changelogTopic(),
                            registry.scope()));
        }
        runtime.write(write);
    }

    /** Counts a state's flush: changes written, and updates that did not need a write. */
    void account(ChangelogState state, long written) {
        changesWritten.inc(written);
        writesSaved.inc(Math.max(0, state.updates - written));
        state.updates = 0;
    }
}
