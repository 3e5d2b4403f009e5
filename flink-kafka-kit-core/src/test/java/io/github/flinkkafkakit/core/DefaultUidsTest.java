package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.count.Counts;
import io.github.flinkkafkakit.core.count.WindowedCounts;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamNode;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Operator uids: two counts or sources of one job get distinct defaults (they used to collide on a
 * constant), and an explicit {@code setUid} is kept as given.
 */
class DefaultUidsTest {

    private static Set<String> uids(StreamExecutionEnvironment env) {
        return env.getStreamGraph().getStreamNodes().stream()
                .map(StreamNode::getTransformationUID)
                .filter(uid -> uid != null)
                .collect(Collectors.toSet());
    }

    @Test
    void twoCountsOfOneJobGetTheirOwnDefaultUids() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<String> keys = env.fromData("a", "b");
        Counts.perKey(keys).build().sinkTo(new DiscardingSink<>());
        Counts.perKey(keys).build().sinkTo(new DiscardingSink<>());
        WindowedCounts.Builder windowed = Counts.windowed(keys).tumbling(Duration.ofMinutes(1));
        windowed.build().counts().sinkTo(new DiscardingSink<>());
        Counts.windowed(keys)
                .tumbling(Duration.ofMinutes(1))
                .build()
                .counts()
                .sinkTo(new DiscardingSink<>());

        assertThat(uids(env))
                .contains(
                        "fkk-running-count",
                        "fkk-running-count-2",
                        "fkk-windowed-count",
                        "fkk-windowed-count-2");
    }

    @Test
    void sourceUidIsTheOneSetAndDefaultsStayDistinct() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        KafkaConnection connection = KafkaConnection.of("127.0.0.1:9");
        KafkaIn.<String>builder()
                .setConnection(connection)
                .setTopics("orders")
                .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                .setPreflight(false)
                .setUid("orders-source")
                .build()
                .createStream(env)
                .sinkTo(new DiscardingSink<>());
        for (int i = 0; i < 2; i++) {
            KafkaIn.<String>builder()
                    .setConnection(connection)
                    .setTopics("clicks")
                    .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                    .setPreflight(false)
                    .build()
                    .createStream(env)
                    .sinkTo(new DiscardingSink<>());
        }

        assertThat(uids(env)).contains("orders-source", "kafka-in-clicks", "kafka-in-clicks-2");
    }
}
