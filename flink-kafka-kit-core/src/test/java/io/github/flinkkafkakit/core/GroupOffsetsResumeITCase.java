package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded {@link KafkaIn} with a group id, run again and again on a topic that grows, without
 * checkpoints: each run starts at the offsets the previous one committed for the group ({@link
 * KafkaIn#commitStoppingOffsets()}), so every record is read by exactly one run.
 */
class GroupOffsetsResumeITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** One Flink cluster for the class's four runs (a local one each would start four). */
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    static final Queue<String> SEEN = new ConcurrentLinkedQueue<>();

    /** Adds to {@link #SEEN} (a static reference: the function itself is serialized). */
    public static final class Collect implements MapFunction<String, Boolean> {
        @Override
        public Boolean map(String value) {
            return SEEN.add(value);
        }
    }

    /** One bounded run of the group over the topic, without checkpoints; what it read. */
    private static List<String> run(String topic, String group) throws Exception {
        SEEN.clear();
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        KafkaIn<String> in =
                KafkaIn.<String>builder()
                        .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                        .setTopics(topic)
                        .setGroupId(group)
                        .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                        .setBounded(true)
                        .build();
        in.createStream(env).map(new Collect(), Types.BOOLEAN).sinkTo(new DiscardingSink<>());
        env.execute("group run " + group);
        in.commitStoppingOffsets();
        return new ArrayList<>(SEEN);
    }

    private static List<String> produce(KafkaTestClient kafka, String topic, int from, int to) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            batch.add(KeyValue.of("k" + i % 7, "v" + i));
            values.add("v" + i);
        }
        kafka.produce(topic, batch);
        return values;
    }

    private static Map<Integer, Long> committed(KafkaTestClient kafka, String group)
            throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets =
                kafka.admin()
                        .listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata()
                        .get(30, TimeUnit.SECONDS);
        Map<Integer, Long> byPartition = new TreeMap<>();
        offsets.forEach((tp, o) -> byPartition.put(tp.partition(), o.offset()));
        return byPartition;
    }

    @Test
    void shouldStartEachRunWhereTheGroupsLastRunStopped() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String topic = kafka.createUniqueTopic("resume", 2);
        String group = "g-" + topic;

        List<String> first = produce(kafka, topic, 0, 100);
        assertThat(run(topic, group)).containsExactlyInAnyOrderElementsOf(first);
        assertThat(committed(kafka, group)).isEqualTo(kafka.endOffsets(topic, true));

        List<String> second = produce(kafka, topic, 100, 160);
        assertThat(run(topic, group))
                .as("the second run reads only what arrived after the first")
                .containsExactlyInAnyOrderElementsOf(second);
        assertThat(committed(kafka, group)).isEqualTo(kafka.endOffsets(topic, true));

        assertThat(run(topic, group)).as("nothing new, nothing read").isEmpty();

        // Another group has no offsets: it starts at the earliest and reads everything.
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        assertThat(run(topic, "other-" + group)).containsExactlyInAnyOrderElementsOf(all);
    }
}
