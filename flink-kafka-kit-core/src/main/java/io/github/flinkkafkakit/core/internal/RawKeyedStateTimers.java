package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.checkpoint.CheckpointType;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyedStateBackend;

/**
 * For operators that write their own raw keyed state (the kit's count and changelog operators):
 * Flink writes timers to that same stream when a backend keeps them on the heap beside RocksDB
 * state, and then fails the first checkpoint ("Attempted to snapshot timers to raw keyed state, but
 * this operator has custom raw keyed state to write"). {@link #check} fails at start instead,
 * naming the setting to change.
 */
@Internal
public final class RawKeyedStateTimers {

    private RawKeyedStateTimers() {}

    /**
     * Throws when {@code backend} would write timers to raw keyed state at a checkpoint.
     *
     * @param what what uses the raw keyed state, for the message (e.g. "Changelog state")
     */
    public static void check(KeyedStateBackend<?> backend, String what) {
        if (backend instanceof AbstractKeyedStateBackend
                && ((AbstractKeyedStateBackend<?>) backend)
                        .requiresLegacySynchronousTimerSnapshots(CheckpointType.CHECKPOINT)) {
            throw new IllegalStateException(
                    what
                            + " needs timers kept in the state backend: this job keeps RocksDB"
                            + " timers on the heap, which Flink writes to the raw keyed state the"
                            + " kit's operator uses. Set"
                            + " state.backend.rocksdb.timer-service.factory: ROCKSDB");
        }
    }
}
