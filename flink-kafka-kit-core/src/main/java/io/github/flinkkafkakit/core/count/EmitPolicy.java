package io.github.flinkkafkakit.core.count;

import org.apache.flink.annotation.PublicEvolving;

/** When a running count is emitted. */
@PublicEvolving
public enum EmitPolicy {
    /**
     * One output per input record, the key's new count: the same output as a hand-written {@code
     * keyBy(k -> k).map(count with ValueState)}.
     */
    EVERY_RECORD,
    /**
     * The latest count of each key that changed, once before each checkpoint barrier (and at end of
     * input, and on the emit interval if one is set): far less output, and under exactly-once it is
     * committed with that checkpoint. The last value per key is the same as with {@link
     * #EVERY_RECORD}.
     */
    ON_CHECKPOINT
}
