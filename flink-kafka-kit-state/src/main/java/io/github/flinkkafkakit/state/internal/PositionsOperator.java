package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Sits right after the source: passes values on, sends dead letters to the writer, and records the
 * next offset of every input partition. Before each checkpoint barrier (and at end of input) it
 * writes the positions that moved to the positions topic through the single transactional writer,
 * so they commit atomically with the state changes and outputs of the same checkpoint.
 *
 * <p>On a start without Flink state it drops what the committed state already covers: the source's
 * enumerator picks its start offsets from the positions topic when it starts, which may be before
 * this job's writer fenced a previous instance that was still committing; this operator reads the
 * positions once its job owns the changelog (the final commit, the one the state was restored from)
 * and drops every record below them, so no input is processed twice.
 *
 * <p>Positions record: key {@code <topic>/<partition>} (UTF-8), value = next offset (decimal).
 */
@Internal
public final class PositionsOperator<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<Tuple4<String, Integer, Long, Either<T, DeadLetter>>, T> {

    private static final long serialVersionUID = 1L;

    private final ChangelogSettings settings;
    private final String positionsTopic;
    private final String deadLetterTopic;
    private final OutputTag<KafkaWrite> writesTag;

    /**
     * Per {@code <topic>/<partition>}: {next offset, first offset to process} (the second is the
     * committed position on a start without Flink state, else 0).
     */
    private transient Map<String, long[]> positions;

    private transient Map<String, Long> committed;
    private transient boolean restored;
    private transient Set<String> moved;
    private transient String lastTopic;
    private transient int lastPartition;
    private transient long[] lastSlot;
    private transient String lastKey;
    private transient StreamRecord<T> out;

    public PositionsOperator(
            ChangelogSettings settings, String deadLetterTopic, OutputTag<KafkaWrite> writesTag) {
        this.settings = settings;
        this.positionsTopic = settings.positionsTopic();
        this.deadLetterTopic = deadLetterTopic;
        this.writesTag = writesTag;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        restored = context.isRestored();
    }

    @Override
    public void open() throws Exception {
        super.open();
        CheckpointSettings.check(
                getContainingTask().getJobConfiguration(),
                settings.guarantee(),
                settings.transactionTimeout());
        committed =
                restored
                        ? Map.of()
                        : PositionsTopic.awaitOwner(
                                        settings.connection(),
                                        positionsTopic,
                                        getRuntimeContext().getJobInfo().getJobId().toString(),
                                        ChangelogSettings.OWNER_TIMEOUT)
                                .positions();
        positions = new HashMap<>();
        moved = new LinkedHashSet<>();
        out = new StreamRecord<>(null);
    }

    @Override
    public void processElement(
            StreamRecord<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> element) {
        Tuple4<String, Integer, Long, Either<T, DeadLetter>> record = element.getValue();
        if (!track(record.f0, record.f1, record.f2)) {
            return; // already in the committed state
        }
        Either<T, DeadLetter> value = record.f3;
        if (value.isLeft()) {
            output.collect(
                    element.hasTimestamp()
                            ? out.replace(value.left(), element.getTimestamp())
                            : out.replace(value.left()));
        } else {
            output.collect(
                    writesTag,
                    new StreamRecord<>(KafkaWrite.deadLetter(deadLetterTopic, value.right())));
        }
    }

    /** Records the position; false when the record is below the committed position. */
    private boolean track(String topic, int partition, long offset) {
        if (partition != lastPartition || !topic.equals(lastTopic) || lastSlot == null) {
            lastTopic = topic;
            lastPartition = partition;
            lastKey = topic + "/" + partition;
            lastSlot =
                    positions.computeIfAbsent(
                            lastKey, k -> new long[] {0, committed.getOrDefault(k, 0L)});
        }
        if (offset < lastSlot[1]) {
            return false;
        }
        lastSlot[0] = offset + 1;
        moved.add(lastKey);
        return true;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        writePositions();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        writePositions();
        super.finish();
    }

    private void writePositions() {
        for (String key : moved) {
            output.collect(
                    writesTag,
                    new StreamRecord<>(
                            KafkaWrite.of(
                                    positionsTopic,
                                    0,
                                    key.getBytes(StandardCharsets.UTF_8),
                                    Long.toString(positions.get(key)[0])
                                            .getBytes(StandardCharsets.US_ASCII))));
        }
        moved.clear();
    }
}
