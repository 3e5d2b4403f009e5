package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.ErrorPolicy;
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
import org.apache.flink.streaming.api.functions.windowing.ProcessAllWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Event time with one partition that never gets data. The source is unbounded, so no end-of-input
 * watermark can close the window: only idleness lets the watermark of the idle partition stop
 * holding event time back. Without idleness the same job fires nothing.
 */
class WatermarkIdlenessITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final long T0 = 1_700_000_000_000L;
    private static final long WINDOW = 1_000;

    /** Window results "start..end=count", collected by the job running in this JVM. */
    static final Queue<String> FIRED = new ConcurrentLinkedQueue<>();

    @AfterEach
    void clear() {
        FIRED.clear();
    }

    /** Emits each window as "start..end=count". */
    public static final class Describe
            extends ProcessAllWindowFunction<String, String, TimeWindow> {
        @Override
        public void process(Context ctx, Iterable<String> elements, Collector<String> out) {
            long n = 0;
            for (String ignored : elements) {
                n++;
            }
            out.collect(
                    (ctx.window().getStart() - T0) + ".." + (ctx.window().getEnd() - T0) + "=" + n);
        }
    }

    /** Adds to {@link #FIRED} (a static reference: the function itself is serialized). */
    public static final class Collect implements MapFunction<String, Boolean> {
        @Override
        public Boolean map(String value) {
            return FIRED.add(value);
        }
    }

    private JobClient start(String topic, Duration idleness, ErrorPolicy policy) throws Exception {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(PipelineOptions.AUTO_WATERMARK_INTERVAL, Duration.ofMillis(50));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        KafkaIn.<String>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(topic)
                .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                .setStartingOffsetsEarliest()
                .setPartitionDiscovery(Duration.ZERO)
                .setWatermarks(Duration.ofMillis(100), idleness)
                .setErrorPolicy(policy)
                .build()
                .createStream(env)
                .windowAll(TumblingEventTimeWindows.of(Duration.ofMillis(WINDOW)))
                .process(new Describe(), Types.STRING)
                .map(new Collect(), Types.BOOLEAN)
                .sinkTo(new DiscardingSink<>());
        return env.executeAsync("idleness " + idleness);
    }

    /** Three records in window [0, 1000) and one at 2500 ms, all in partition 0 of 2. */
    private static String topicWithOneIdlePartition(KafkaTestClient kafka) throws Exception {
        String topic = kafka.createUniqueTopic("idle", 2);
        try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
            for (long t : List.of(10L, 400L, 900L, 2_500L)) {
                producer.send(new ProducerRecord<>(topic, 0, T0 + t, "k", "v" + t)).get();
            }
        }
        return topic;
    }

    /**
     * Keeps partition 0 busy (one record every 100 ms, in window [2000, 3000)) until a window fired
     * or {@code timeout} passed, as a live partition next to an idle one would be.
     */
    private static void feedPartitionZeroUntilFired(
            KafkaTestClient kafka, String topic, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaProducer<String, String> producer = kafka.stringProducer()) {
            for (int i = 0; FIRED.isEmpty() && System.nanoTime() < deadline; i++) {
                producer.send(new ProducerRecord<>(topic, 0, T0 + 2_500 + i % 400, "k", "live"));
                producer.flush();
                Thread.sleep(100);
            }
        }
    }

    @Test
    void shouldFireEventTimeWindowsWhileOnePartitionStaysIdle() throws Exception {
        String topic = topicWithOneIdlePartition(KAFKA.client());

        JobClient job = start(topic, Duration.ofMillis(500), ErrorPolicy.skip());
        try {
            feedPartitionZeroUntilFired(KAFKA.client(), topic, Duration.ofSeconds(30));
        } finally {
            job.cancel().get();
        }

        // The watermark passed 1000 ms (it reached 2500 - 100 - 1) although partition 1 never
        // had a record; the job was still running, so this is not the end-of-input flush.
        assertThat(FIRED).containsExactly("0..1000=3");
    }

    @Test
    void shouldKeepPerPartitionIdlenessWithADeadLetterPolicy() throws Exception {
        String topic = topicWithOneIdlePartition(KAFKA.client());

        JobClient job =
                start(
                        topic,
                        Duration.ofMillis(500),
                        ErrorPolicy.deadLetter(KafkaTestClient.uniqueTopicName("idle-dlq")));
        try {
            feedPartitionZeroUntilFired(KAFKA.client(), topic, Duration.ofSeconds(30));
        } finally {
            job.cancel().get();
        }

        assertThat(FIRED).containsExactly("0..1000=3");
    }

    @Test
    void shouldStallEventTimeWithoutIdleness() throws Exception {
        String topic = topicWithOneIdlePartition(KAFKA.client());

        JobClient job = start(topic, null, ErrorPolicy.skip());
        try {
            feedPartitionZeroUntilFired(KAFKA.client(), topic, Duration.ofSeconds(4));
        } finally {
            job.cancel().get();
        }

        assertThat(FIRED).isEmpty();
    }
}
