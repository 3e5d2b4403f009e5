package io.github.flinkkafkakit.core.count.internal;

import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.core.internal.RawKeyedStateTimers;
import io.github.flinkkafkakit.core.internal.table.StringLongTable;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.KeyGroupStatePartitionStreamProvider;
import org.apache.flink.runtime.state.KeyedStateCheckpointOutputStream;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.io.IOException;
import java.io.InputStream;

/**
 * The keyed running-count operator. Counts live in a {@link StringLongTable}, not in Flink's keyed
 * state backend: the per-record path is one table lookup and a {@code long} increment, with no
 * {@code setCurrentKey}, boxing or state access. Once per checkpoint the table is written to
 * Flink's <em>raw keyed state</em>, one section per key group, so savepoints, restore and rescaling
 * go through Flink's standard key-group machinery (each subtask reads back exactly the key groups
 * it owns).
 *
 * <p>Input: a key per record, or {@code (key, partial count)} from the pre-aggregation operator
 * ({@code String} keys only). A {@code String} key is kept as its UTF-8 bytes; a key of another
 * type as the bytes of its serializer, which must be deterministic (equal keys, equal bytes: the
 * table compares bytes), and is deserialized again only to emit coalesced counts.
 */
@Internal
public final class RunningCountOperator<IN, K> extends AbstractStreamOperator<Tuple2<K, Long>>
        implements OneInputStreamOperator<IN, Tuple2<K, Long>> {

    private static final long serialVersionUID = 1L;

    private final EmitPolicy emitPolicy;
    private final long emitIntervalMillis;
    private final boolean preAggregated;
    private final TypeSerializer<K> keySerializer; // null: String keys

    private transient StringLongTable table;
    private transient int maxParallelism;
    private transient StreamRecord<Tuple2<K, Long>> out;
    private transient DataOutputSerializer keyOut;
    private transient DataInputDeserializer keyIn;

    /**
     * @param preAggregated whether input records are {@code Tuple2<String, Long>} partial counts
     *     instead of keys
     * @param emitIntervalMillis with {@link EmitPolicy#ON_CHECKPOINT}, also emit changed counts
     *     this often (processing time); 0 = only at checkpoints and end of input
     */
    public RunningCountOperator(
            EmitPolicy emitPolicy, long emitIntervalMillis, boolean preAggregated) {
        this(emitPolicy, emitIntervalMillis, preAggregated, null);
    }

    /**
     * @param keySerializer the serializer of keys that are not {@code String}s (deterministic), or
     *     null for {@code String} keys
     */
    public RunningCountOperator(
            EmitPolicy emitPolicy,
            long emitIntervalMillis,
            boolean preAggregated,
            TypeSerializer<K> keySerializer) {
        if (preAggregated && keySerializer != null) {
            throw new IllegalArgumentException("pre-aggregation counts String keys only");
        }
        this.emitPolicy = emitPolicy;
        this.emitIntervalMillis = emitIntervalMillis;
        this.preAggregated = preAggregated;
        this.keySerializer = keySerializer;
    }

    /** Writes the table to raw keyed state; timers must not use that stream. */
    @Override
    protected boolean isUsingCustomRawKeyedState() {
        return true;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        table = new StringLongTable();
        byte[] buffer = new byte[64];
        for (KeyGroupStatePartitionStreamProvider partition : context.getRawKeyedStateInputs()) {
            int keyGroup = partition.getKeyGroupId();
            try (InputStream stream = partition.getStream()) {
                DataInputViewStreamWrapper in = new DataInputViewStreamWrapper(stream);
                int entries = in.readInt();
                for (int i = 0; i < entries; i++) {
                    int length = in.readInt();
                    if (buffer.length < length) {
                        buffer = new byte[length];
                    }
                    in.readFully(buffer, 0, length);
                    table.add(buffer, 0, length, in.readLong(), keyGroup);
                }
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        RawKeyedStateTimers.check(getKeyedStateBackend(), "The running count");
        maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        out = new StreamRecord<>(null);
        keyOut = new DataOutputSerializer(32);
        keyIn = new DataInputDeserializer();
        if (emitPolicy == EmitPolicy.ON_CHECKPOINT && emitIntervalMillis > 0) {
            scheduleEmit();
        }
    }

    private void scheduleEmit() {
        long next = getProcessingTimeService().getCurrentProcessingTime() + emitIntervalMillis;
        getProcessingTimeService()
                .registerTimer(
                        next,
                        time -> {
                            emitChanged();
                            scheduleEmit();
                        });
    }

    /** Counts do not use Flink's keyed state: skip setting the current key per record. */
    @Override
    @SuppressWarnings("rawtypes")
    public void setKeyContextElement1(StreamRecord record) {}

    @Override
    @SuppressWarnings("unchecked")
    public void processElement(StreamRecord<IN> element) throws IOException {
        if (keySerializer != null) {
            processSerialized((K) element.getValue());
            return;
        }
        String key;
        long delta;
        if (preAggregated) {
            Tuple2<String, Long> partial = (Tuple2<String, Long>) element.getValue();
            key = partial.f0;
            delta = partial.f1;
        } else {
            key = (String) element.getValue();
            delta = 1;
        }
        int size = table.size();
        int entry = table.add(key, delta, 0);
        if (table.size() > size) {
            table.setKeyGroup(entry, KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism));
        }
        emit((K) key, entry);
    }

    /** A key of another type than String, counted by its serialized bytes. */
    private void processSerialized(K key) throws IOException {
        keyOut.clear();
        keySerializer.serialize(key, keyOut);
        int size = table.size();
        int entry = table.add(keyOut.getSharedBuffer(), 0, keyOut.length(), 1, 0);
        if (table.size() > size) {
            table.setKeyGroup(entry, KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism));
        }
        emit(key, entry);
    }

    private void emit(K key, int entry) {
        if (emitPolicy == EmitPolicy.EVERY_RECORD) {
            output.collect(out.replace(Tuple2.of(key, table.count(entry))));
        } else {
            table.markDirty(entry);
        }
    }

    @SuppressWarnings("unchecked")
    private void emitChanged() throws IOException {
        if (table.dirtyCount() == 0) {
            return;
        }
        for (int entry = table.nextDirty(0); entry >= 0; entry = table.nextDirty(entry + 1)) {
            K key;
            if (keySerializer == null) {
                key = (K) table.key(entry);
            } else {
                keyIn.setBuffer(table.keyBytes(entry));
                key = keySerializer.deserialize(keyIn);
            }
            output.collect(out.replace(Tuple2.of(key, table.count(entry))));
        }
        table.clearDirty();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        emitChanged();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        emitChanged();
        super.finish();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        KeyedStateCheckpointOutputStream stream = context.getRawKeyedOperatorStateOutput();
        // Entries grouped by key group (counting sort over the table, no key decoding).
        int first = Integer.MAX_VALUE;
        int last = -1;
        for (int kg : stream.getKeyGroupList()) {
            first = Math.min(first, kg);
            last = Math.max(last, kg);
        }
        int span = last < 0 ? 0 : last - first + 1;
        int[] start = new int[span + 1];
        for (int e = table.next(0); e >= 0; e = table.next(e + 1)) {
            start[table.keyGroup(e) - first + 1]++;
        }
        for (int i = 0; i < span; i++) {
            start[i + 1] += start[i];
        }
        int[] order = new int[table.size()];
        int[] fill = start.clone();
        for (int e = table.next(0); e >= 0; e = table.next(e + 1)) {
            order[fill[table.keyGroup(e) - first]++] = e;
        }
        DataOutputViewStreamWrapper out = new DataOutputViewStreamWrapper(stream);
        for (int kg : stream.getKeyGroupList()) {
            stream.startNewKeyGroup(kg);
            int from = start[kg - first];
            int to = start[kg - first + 1];
            out.writeInt(to - from);
            for (int i = from; i < to; i++) {
                int entry = order[i];
                table.writeKey(entry, out);
                out.writeLong(table.count(entry));
            }
        }
    }

    /** For tests and the memory benchmark. */
    public StringLongTable table() {
        return table;
    }
}
