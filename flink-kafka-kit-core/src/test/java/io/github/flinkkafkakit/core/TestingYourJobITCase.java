package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.count.Counts;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The test the README's "Testing your job" section shows, copied from here: keep the two the same.
 * A job's test with the kit's test kit: an in-process broker, the job on a local MiniCluster, the
 * output read back with {@code read_committed} and compared with what the test computes from its
 * own input.
 */
class TestingYourJobITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void countsEveryKeyExactlyOnce(KafkaTestClient kafka) throws Exception {
        // Input: 1,000 page views of 10 users; the expectation is computed from the same input.
        String in = kafka.createUniqueTopic("page-views", 3); // waits for partition leaders
        String out = kafka.createUniqueTopic("page-view-counts", 3);
        List<KeyValue<String, String>> views = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            views.add(KeyValue.of("user-" + (i % 10), "/page/" + i));
        }
        kafka.produce(in, views);
        Map<String, String> expected = new HashMap<>();
        KafkaTestClient.countBy(views, KeyValue::key)
                .forEach((user, n) -> expected.put(user, Long.toString(n)));

        // The job under test, on a local MiniCluster (what getExecutionEnvironment() gives a test).
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(300); // exactly-once output commits at each checkpoint
        KafkaConnection connection = KafkaConnection.of(kafka.bootstrapServers());
        DataStream<String> users =
                KafkaIn.<String>builder()
                        .setConnection(connection)
                        .setTopics(in)
                        .setDeserializer(KafkaDeserializers.keys(Serdes.string()))
                        .setBounded(true) // stop at the end of the input: execute() returns
                        .build()
                        .createStream(env);
        KafkaOut.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopic(out)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.longAsText())
                .setTransactionalIdPrefix("counts-" + out)
                .build()
                .writeTo(Counts.perKey(users).build());
        env.execute("count page views");

        // What was committed, read with read_committed: the last count of every user.
        assertThat(kafka.latestValuePerKey(out)).isEqualTo(expected);
    }
}
