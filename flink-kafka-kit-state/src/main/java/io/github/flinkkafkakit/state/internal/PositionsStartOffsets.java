package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Start offsets of the input when the job starts without Flink state: the positions committed to
 * the positions topic together with the state (read with {@code read_committed} when the source's
 * enumerator starts); partitions without a position start at the earliest offset. The enumerator
 * may read them before this job's writer fenced a previous instance that was still committing: they
 * are then behind the final commit, never ahead of it, and {@link PositionsOperator} drops the
 * records between.
 */
@Internal
public final class PositionsStartOffsets implements OffsetsInitializer {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PositionsStartOffsets.class);

    private final KafkaConnection connection;
    private final String positionsTopic;

    public PositionsStartOffsets(KafkaConnection connection, String positionsTopic) {
        this.connection = connection;
        this.positionsTopic = positionsTopic;
    }

    @Override
    public Map<TopicPartition, Long> getPartitionOffsets(
            Collection<TopicPartition> partitions, PartitionOffsetsRetriever retriever) {
        Map<String, Long> committed = PositionsTopic.read(connection, positionsTopic).positions();
        Map<TopicPartition, Long> result = new HashMap<>();
        List<TopicPartition> unknown = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Long position = committed.get(tp.topic() + "/" + tp.partition());
            if (position != null) {
                result.put(tp, position);
            } else {
                unknown.add(tp);
            }
        }
        if (!unknown.isEmpty()) {
            result.putAll(retriever.beginningOffsets(unknown));
        }
        LOG.info("Starting from the positions in '{}': {}", positionsTopic, result);
        return result;
    }

    @Override
    @SuppressWarnings("deprecation")
    public OffsetResetStrategy getAutoOffsetResetStrategy() {
        return OffsetResetStrategy.EARLIEST;
    }
}
