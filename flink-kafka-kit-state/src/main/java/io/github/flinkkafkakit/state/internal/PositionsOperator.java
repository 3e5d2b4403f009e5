package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.java.tuple.Tuple4;
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
 * <p>Positions record: key {@code <topic>/<partition>} (UTF-8), value = next offset (decimal).
 */
@Internal
public final class PositionsOperator<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<Tuple4<String, Integer, Long, Either<T, DeadLetter>>, T> {

    private static final long serialVersionUID = 1L;

    private final String positionsTopic;
    private final String deadLetterTopic;
    private final OutputTag<KafkaWrite> writesTag;

    private transient Map<String, long[]> positions;
    private transient Set<String> moved;
    private transient String lastTopic;
    private transient int lastPartition;
    private transient long[] lastSlot;
    private transient String lastKey;
    private transient StreamRecord<T> out;

    public PositionsOperator(
            String positionsTopic, String deadLetterTopic, OutputTag<KafkaWrite> writesTag) {
        this.positionsTopic = positionsTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.writesTag = writesTag;
    }

    @Override
    public void open() throws Exception {
        super.open();
        positions = new HashMap<>();
        moved = new LinkedHashSet<>();
        out = new StreamRecord<>(null);
    }

    @Override
    public void processElement(
            StreamRecord<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> element) {
        Tuple4<String, Integer, Long, Either<T, DeadLetter>> record = element.getValue();
        track(record.f0, record.f1, record.f2);
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

    private void track(String topic, int partition, long offset) {
        if (partition != lastPartition || !topic.equals(lastTopic) || lastSlot == null) {
            lastTopic = topic;
            lastPartition = partition;
            lastKey = topic + "/" + partition;
            lastSlot = positions.computeIfAbsent(lastKey, k -> new long[1]);
        }
        lastSlot[0] = offset + 1;
        moved.add(lastKey);
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
