package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

/**
 * A transaction the changelog writer pre-committed at a checkpoint and has not yet seen committed,
 * as kept in Flink's checkpoint: enough to commit it from another producer after a restore. A Flink
 * POJO (no Kryo).
 */
@Internal
public class PendingCommit {

    /** The changelog's commit counter of this transaction. */
    public long seq;

    public long checkpointId;

    public String transactionalId;

    public long producerId;

    public short epoch;

    /** When its first record was sent (epoch millis). */
    public long startedAt;

    public PendingCommit() {}

    @Override
    public String toString() {
        return "commit "
                + seq
                + " of checkpoint "
                + checkpointId
                + " ("
                + transactionalId
                + ", producer id "
                + producerId
                + ", epoch "
                + epoch
                + ")";
    }
}
