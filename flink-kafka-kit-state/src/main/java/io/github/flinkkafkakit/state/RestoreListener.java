package io.github.flinkkafkakit.state;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * Progress of a restore from the changelog topic (one parallel instance), when a job starts with no
 * Flink state. Also reported as metrics {@code fkk.changelog.restoredRecords} and {@code
 * fkk.changelog.restoreMillis}.
 *
 * <pre>{@code
 * KafkaChangelog.builder()
 *         .setRestoreListener((subtask, records, done) -> {
 *             if (done) LOG.info("subtask {} restored {} records", subtask, records);
 *         })
 * }</pre>
 */
@PublicEvolving
@FunctionalInterface
public interface RestoreListener extends Serializable {

    /**
     * @param subtask index of the parallel instance restoring
     * @param recordsRead changelog records read so far (of the owned key groups)
     * @param done whether the restore finished
     */
    void onProgress(int subtask, long recordsRead, boolean done);

    /**
     * Called once when this instance's restore finished, after the final {@link #onProgress}.
     *
     * @param subtask index of the parallel instance that restored
     * @param recordsRead changelog records read (of the owned key groups)
     * @param restoreMillis how long the restore took, from opening the changelog consumer to the
     *     last record applied to the state
     */
    default void onRestored(int subtask, long recordsRead, long restoreMillis) {}
}
