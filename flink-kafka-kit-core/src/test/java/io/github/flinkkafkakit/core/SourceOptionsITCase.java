package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

/** Starting offsets by timestamp and partition discovery against the embedded broker. */
class SourceOptionsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long T0 = 1_700_000_000_000L;

    static final Queue<String> SEEN = new ConcurrentLinkedQueue<>();

    @AfterEach
    void clear() {
        SEEN.clear();
    }

    /** Adds to {@link #SEEN} (a static reference: the function itself is serialized). */
    public static final class Collect implements MapFunction<String, Boolean> {
        @Override
        public Boolean map(String value) {
            return SEEN.add(value);
        }
    }

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        return env;
    }

    private static KafkaIn.Builder<String> source(String topic) {
        return KafkaIn.<String>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(topic)
                .setDeserializer(KafkaDeserializers.values(Serdes.string()));
    }

    private static void send(KafkaTestClient kafka, String topic, int partition, long ts, String v)
            throws Exception {
        try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
            producer.send(new ProducerRecord<>(topic, partition, ts, "k", v)).get();
        }
    }

    @Test
    void shouldStartAtTheFirstRecordAtOrAfterTheTimestamp() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String topic = kafka.createUniqueTopic("from-ts", 1);
        try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, T0 + i * 1000L, "k", "v" + i));
            }
            producer.flush();
        }

        StreamExecutionEnvironment env = env();
        source(topic)
                .setStartingOffsetsTimestamp(Instant.ofEpochMilli(T0 + 6_500))
                .setBounded(true)
                .build()
                .createStream(env)
                .map(new Collect(), Types.BOOLEAN)
                .sinkTo(new DiscardingSink<>());
        env.execute("from timestamp");

        assertThat(SEEN).containsExactly("v7", "v8", "v9");
    }

    @Test
    void shouldPickUpPartitionsAddedWhileRunning() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String topic = kafka.createUniqueTopic("discover", 1);
        send(kafka, topic, 0, T0, "first");

        StreamExecutionEnvironment env = env();
        source(topic)
                .setStartingOffsetsEarliest()
                .setPartitionDiscovery(Duration.ofMillis(200))
                .build()
                .createStream(env)
                .map(new Collect(), Types.BOOLEAN)
                .sinkTo(new DiscardingSink<>());
        JobClient job = env.executeAsync("discovery");
        try {
            awaitSeen(1, Duration.ofSeconds(30));
            kafka.admin().createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get();
            kafka.waitForLeaders(topic, 2);
            send(kafka, topic, 1, T0, "in-new-partition");
            awaitSeen(2, Duration.ofSeconds(30));
        } finally {
            job.cancel().get();
        }

        assertThat(SEEN).containsExactly("first", "in-new-partition");
    }

    private static void awaitSeen(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (SEEN.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }
}
