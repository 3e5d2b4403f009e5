package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.java.tuple.Tuple2;

/**
 * The input most Kafka-state tests run on: deposits, key = account (String), value = amount as
 * decimal text, read up to the end offsets present at start.
 */
final class Deposits {

    private Deposits() {}

    static KafkaIn<Tuple2<String, Long>> boundedSource(
            KafkaConnection connection, String topic, String groupId) {
        return KafkaIn.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopics(topic)
                .setGroupId(groupId)
                .setDeserializer(KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                .setBounded(true)
                .build();
    }
}
