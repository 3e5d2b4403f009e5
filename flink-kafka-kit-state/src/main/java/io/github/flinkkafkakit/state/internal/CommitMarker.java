package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

/**
 * The marker every committed transaction of the changelog writer carries, in the positions topic
 * ({@link PositionsTopic#COMMIT_KEY}) and in every changelog partition ({@link
 * ChangelogKeys#COMMIT_MARKER}): the changelog's commit counter, its generation, and the job and
 * checkpoint that committed. A restore compares the markers of what it read: positions and state of
 * one commit carry the same {@code seq}.
 */
@Internal
public final class CommitMarker {

    /** The changelog's commit counter: 1 for its first commit, one more for each commit since. */
    public static final String SEQ = "seq";

    /** The changelog's generation ({@link ChangelogIdentity#GENERATION}). */
    public static final String GENERATION = "generation";

    public static final String JOB = "jobId";
    public static final String CHECKPOINT = "checkpoint";

    private CommitMarker() {}

    public static Fields of(long seq, String generation, String jobId, long checkpointId) {
        return Fields.empty()
                .with(SEQ, seq)
                .with(GENERATION, generation)
                .with(JOB, jobId)
                .with(CHECKPOINT, checkpointId);
    }
}
