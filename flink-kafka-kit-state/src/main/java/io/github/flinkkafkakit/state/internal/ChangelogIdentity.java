package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.UUID;

/**
 * What a changelog's state belongs to, kept in its positions topic ({@link
 * PositionsTopic#IDENTITY_KEY}) and checked each time a writer takes the changelog over: the
 * changelog topic (by topic id, so a deleted and re-created topic is noticed), its partition count,
 * the max parallelism (key groups) the state was written with, the topic id of every input topic
 * whose positions it holds, and a generation id that every commit marker carries.
 *
 * <p>Each mismatch would silently give wrong results — state without the input positions it belongs
 * to (input counted twice or skipped), records restored under other key groups — so each fails the
 * start with one line naming it and the fix.
 */
@Internal
public final class ChangelogIdentity {

    private static final Logger LOG = LoggerFactory.getLogger(ChangelogIdentity.class);

    public static final String GENERATION = "generation";
    static final String FORMAT = "format";
    static final String CHANGELOG = "changelog";
    static final String CHANGELOG_ID = "changelog.id";
    static final String CHANGELOG_PARTITIONS = "changelog.partitions";
    static final String MAX_PARALLELISM = "maxParallelism";
    static final String INPUT = "input.";

    /**
     * Transactional ids of the writer's pool ({@code <prefix>-0} .. {@code -(n-1)}) used so far:
     * the next writer fences at least these.
     */
    static final String WRITER_IDS = "writer.ids";

    private ChangelogIdentity() {}

    /** The changelog of the job that starts now, as found on the cluster. */
    public record Current(
            String changelogTopic,
            String changelogId,
            int changelogPartitions,
            String positionsTopic,
            int maxParallelism,
            Map<String, String> inputTopicIds,
            int writerIds) {}

    /**
     * Compares what the positions topic says the state belongs to with {@code current}.
     *
     * @param changelogHasRecords whether the changelog topic holds records (its end offsets)
     * @return the identity to commit now (the stored one, with new input topics, the generation and
     *     the writer's ids)
     * @throws IllegalStateException naming the mismatch and the fix
     */
    public static Fields verify(
            PositionsTopic.Snapshot snapshot, Current current, boolean changelogHasRecords) {
        Fields stored = snapshot.identity();
        String changelog = current.changelogTopic();
        String positions = current.positionsTopic();
        if (stored.isEmpty()) {
            if (!snapshot.positions().isEmpty()) {
                LOG.info(
                        "Changelog '{}' was written by an earlier version of the kit (no identity"
                                + " in '{}'): taking it as it is and recording its identity now",
                        changelog,
                        positions);
            } else if (changelogHasRecords) {
                throw new IllegalStateException(
                        String.format(
                                "Changelog topic '%s' holds state, but its positions topic '%s' is"
                                        + " empty (deleted or re-created?): without the positions"
                                        + " the job would count the input again on top of that"
                                        + " state. Restore '%s', or delete '%s' as well to start"
                                        + " over",
                                changelog, positions, positions, changelog));
            }
        } else {
            // Only what holds something can be lost: a changelog that never committed, or an
            // input without positions, may be re-created freely.
            boolean committed = snapshot.commitSeq() > 0 || !snapshot.positions().isEmpty();
            String storedId = stored.get(CHANGELOG_ID);
            if (committed && storedId != null && !storedId.equals(current.changelogId())) {
                throw new IllegalStateException(
                        String.format(
                                "Changelog topic '%s' is not the topic its positions in '%s' were"
                                        + " committed with (topic id %s, now %s: deleted and"
                                        + " re-created?): its state does not match those"
                                        + " positions. Delete '%s' as well to start over from the"
                                        + " beginning of the input, or restore '%s'",
                                changelog,
                                positions,
                                storedId,
                                current.changelogId(),
                                positions,
                                changelog));
            }
            long storedPartitions = stored.getLong(CHANGELOG_PARTITIONS, -1);
            if (storedPartitions >= 0 && storedPartitions != current.changelogPartitions()) {
                throw new IllegalStateException(
                        String.format(
                                "Changelog topic '%s' has %d partitions, but its state was written"
                                        + " to %d: a key group's records would be looked for in"
                                        + " the wrong partition. Keep the partition count of a"
                                        + " changelog; for another one, start a new changelog"
                                        + " topic",
                                changelog, current.changelogPartitions(), storedPartitions));
            }
            long storedMax = stored.getLong(MAX_PARALLELISM, -1);
            if (storedMax >= 0 && storedMax != current.maxParallelism()) {
                throw new IllegalStateException(
                        String.format(
                                "Changelog '%s' was written with max parallelism %d (key groups),"
                                        + " this job uses %d: its records would be restored under"
                                        + " other key groups. Set"
                                        + " KafkaChangelog.Builder#setMaxParallelism(%d), or start"
                                        + " a new changelog topic",
                                changelog, storedMax, current.maxParallelism(), storedMax));
            }
            for (Map.Entry<String, String> input : current.inputTopicIds().entrySet()) {
                String storedInput = stored.get(INPUT + input.getKey());
                boolean hasPositions =
                        snapshot.positions().keySet().stream()
                                .anyMatch(key -> key.startsWith(input.getKey() + "/"));
                if (hasPositions && storedInput != null && !storedInput.equals(input.getValue())) {
                    throw new IllegalStateException(
                            String.format(
                                    "Input topic '%s' was re-created since its positions were"
                                            + " committed to '%s' (topic id %s, now %s): the"
                                            + " positions and the state in '%s' belong to the old"
                                            + " topic. Use a new state topic, or delete '%s' and"
                                            + " '%s' to start over",
                                    input.getKey(),
                                    positions,
                                    storedInput,
                                    input.getValue(),
                                    changelog,
                                    changelog,
                                    positions));
                }
            }
        }
        String generation = stored.get(GENERATION);
        Fields identity =
                stored.with(FORMAT, 1)
                        .with(GENERATION, generation != null ? generation : UUID.randomUUID())
                        .with(CHANGELOG, changelog)
                        .with(CHANGELOG_ID, current.changelogId())
                        .with(CHANGELOG_PARTITIONS, current.changelogPartitions())
                        .with(MAX_PARALLELISM, current.maxParallelism())
                        .with(
                                WRITER_IDS,
                                Math.max(current.writerIds(), (int) stored.getLong(WRITER_IDS, 0)));
        for (Map.Entry<String, String> input : current.inputTopicIds().entrySet()) {
            identity = identity.with(INPUT + input.getKey(), input.getValue());
        }
        return identity;
    }
}
