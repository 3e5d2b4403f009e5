package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Start offsets of the input when the job starts without Flink state: the positions committed to
 * the positions topic together with the state (read with {@code read_committed} when the source's
 * enumerator starts); partitions without a position start at the earliest offset.
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

    /** The committed positions: {@code <topic>/<partition>} → next offset. */
    public static Map<String, Long> read(KafkaConnection connection, String positionsTopic) {
        Properties props = connection.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "fkk-positions-" + positionsTopic);
        Map<String, Long> positions = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(positionsTopic, Duration.ofSeconds(30))
                    .forEach(
                            p -> partitions.add(new TopicPartition(positionsTopic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        if (r.value() == null) {
                            positions.remove(r.key());
                        } else {
                            positions.put(r.key(), Long.parseLong(r.value()));
                        }
                    }
                }
            }
        }
        return positions;
    }

    @Override
    public Map<TopicPartition, Long> getPartitionOffsets(
            Collection<TopicPartition> partitions, PartitionOffsetsRetriever retriever) {
        Map<String, Long> committed = read(connection, positionsTopic);
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
