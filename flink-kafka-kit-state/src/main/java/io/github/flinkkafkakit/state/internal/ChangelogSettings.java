package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.base.DeliveryGuarantee;

import org.apache.kafka.clients.producer.ProducerConfig;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * One changelog as the operators of its job see it: where state, positions and bookkeeping go, how
 * they are written, and what the job reads. Shared by the writer, the keyed state operators and the
 * position trackers.
 *
 * @param changelogPartitions partitions of the changelog topic (as found when the job was built)
 * @param inputTopics the topics whose positions the changelog holds
 * @param maxRequestSize the writer's {@code max.request.size}
 */
@Internal
public record ChangelogSettings(
        KafkaConnection connection,
        String changelogTopic,
        String positionsTopic,
        int changelogPartitions,
        int maxParallelism,
        List<String> inputTopics,
        DeliveryGuarantee guarantee,
        String transactionalIdPrefix,
        Duration transactionTimeout,
        int maxRequestSize)
        implements Serializable {

    /** How long a restoring task waits for its job's writer to take the changelog over. */
    public static final Duration OWNER_TIMEOUT = Duration.ofMinutes(2);

    public ChangelogSettings {
        inputTopics = List.copyOf(inputTopics);
    }

    /** These settings for a job reading {@code topics}. */
    public ChangelogSettings withInputTopics(List<String> topics) {
        return new ChangelogSettings(
                connection,
                changelogTopic,
                positionsTopic,
                changelogPartitions,
                maxParallelism,
                topics,
                guarantee,
                transactionalIdPrefix,
                transactionTimeout,
                maxRequestSize);
    }

    /** The producer settings of the writer's producers. */
    Properties producerProperties() {
        Properties props = connection.clientProperties();
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        props.setProperty(
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(transactionTimeout.toMillis()));
        return props;
    }

    /** The writer's transactional id number {@code index}. */
    String transactionalId(int index) {
        return transactionalIdPrefix + "-" + index;
    }

    boolean exactlyOnce() {
        return guarantee == DeliveryGuarantee.EXACTLY_ONCE;
    }
}
