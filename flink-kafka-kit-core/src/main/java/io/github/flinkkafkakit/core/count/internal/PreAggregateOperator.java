package io.github.flinkkafkakit.core.count.internal;

import io.github.flinkkafkakit.core.internal.table.StringLongTable;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Combines counts per key before the shuffle: a bounded table of partial counts, sent on as {@code
 * (key, partial count)} when it is full, before each checkpoint barrier and at end of input.
 * Nothing is kept across checkpoints, so it has no state of its own.
 */
@Internal
public final class PreAggregateOperator extends AbstractStreamOperator<Tuple2<String, Long>>
        implements OneInputStreamOperator<String, Tuple2<String, Long>> {

    private static final long serialVersionUID = 1L;

    private final int maxKeys;
    private transient StringLongTable table;
    private transient StreamRecord<Tuple2<String, Long>> out;

    public PreAggregateOperator(int maxKeys) {
        this.maxKeys = maxKeys;
    }

    @Override
    public void open() throws Exception {
        super.open();
        table = new StringLongTable();
        out = new StreamRecord<>(null);
    }

    @Override
    public void processElement(StreamRecord<String> element) {
        table.add(element.getValue(), 1, 0);
        if (table.size() >= maxKeys) {
            flush();
        }
    }

    private void flush() {
        for (int entry = table.next(0); entry >= 0; entry = table.next(entry + 1)) {
            output.collect(out.replace(Tuple2.of(table.key(entry), table.count(entry))));
        }
        table.clear();
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
}
