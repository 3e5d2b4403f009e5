package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;
import io.github.flinkkafkakit.core.preflight.PreflightException;

import org.apache.flink.annotation.Internal;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

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
            NewTopic newTopic =
                    new NewTopic(topic, partitions, (short) -1)
                            .configs(Map.of("cleanup.policy", "compact"));
            try {
                check.admin().createTopics(List.of(newTopic)).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new PreflightException(
                            "Cannot create changelog topic '"
                                    + topic
                                    + "': "
                                    + e.getCause().getClass().getSimpleName()
                                    + ": "
                                    + e.getCause().getMessage());
                }
            } catch (Exception e) {
                throw new PreflightException("Cannot create changelog topic '" + topic + "': " + e);
            }
            waitForLeaders(check, topic);
            return check.describeTopic(topic).map(d -> d.partitions().size()).orElse(partitions);
        }
    }

    private static void waitForLeaders(KafkaPreflight check, String topic) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Optional<TopicDescription> d = check.describeTopic(topic);
            if (d.isPresent()
                    && d.get().partitions().stream()
                            .allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
