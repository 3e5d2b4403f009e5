package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;
import io.github.flinkkafkakit.core.preflight.PreflightException;

import org.apache.flink.annotation.Internal;

import org.apache.kafka.clients.admin.TopicDescription;

import java.util.Map;
import java.util.Optional;

/**
 * Creates the changelog and positions topics ({@code cleanup.policy=compact}) or validates them
 * when they exist: a topic that is not compacted would lose state to retention, so it is refused.
 */
@Internal
public final class ChangelogTopics {

    private ChangelogTopics() {}

    /**
     * Ensures a compacted topic exists.
     *
     * @return its partition count
     * @throws PreflightException when it exists without compaction, or cannot be created
     */
    public static int ensureCompacted(KafkaConnection connection, String topic, int partitions) {
        try (KafkaPreflight check = new KafkaPreflight(connection)) {
            check.checkReachable();
            Optional<TopicDescription> existing = check.describeTopic(topic);
            if (existing.isPresent()) {
                String policy = check.topicConfig(topic, "cleanup.policy").orElse("compact");
                if (!policy.contains("compact")) {
                    throw new PreflightException(
                            "Changelog topic '"
                                    + topic
                                    + "' has cleanup.policy="
                                    + policy
                                    + ": it must be compacted or old state is deleted. Set"
                                    + " cleanup.policy=compact on it (kafka-configs.sh --alter"
                                    + " --add-config cleanup.policy=compact) or use another topic");
                }
                return existing.get().partitions().size();
            }
            return check.createTopicIfMissing(
                    topic, partitions, Map.of("cleanup.policy", "compact"), "changelog");
        }
    }
}
