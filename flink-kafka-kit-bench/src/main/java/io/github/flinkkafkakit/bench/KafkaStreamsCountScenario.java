package io.github.flinkkafkakit.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * {@code kafka-streams-count-eos}: Kafka Streams' {@code groupByKey().count()} with {@code
 * exactly_once_v2}, committing as often as the Flink jobs checkpoint, with an in-memory store
 * (faster than the RocksDB default). It runs until its consumer group has committed the whole
 * input.
 */
final class KafkaStreamsCountScenario implements EndToEndScenario {

    private static final Duration LIMIT = Duration.ofMinutes(10);

    @Override
    public String name() {
        return "kafka-streams-count-eos";
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String output = context.createTopic("streams-count-out");
        String applicationId = context.uniqueName("streams");
        Path stateDir = context.localDirectory("streams");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, context.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                Long.toString(context.checkpointInterval().toMillis()));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(context.parallelism()));
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put("consumer.auto.offset.reset", "earliest");

        Serde<String> markingKeys = Serdes.serdeFrom(new StringSerializer(), new MarkingKeys());
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input.topic, Consumed.with(markingKeys, Serdes.ByteArray()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
                .count(
                        Materialized.<String, Long>as(Stores.inMemoryKeyValueStore("counts"))
                                .withKeySerde(Serdes.String())
                                .withValueSerde(Serdes.Long()))
                .toStream()
                .mapValues(count -> Long.toString(count))
                .to(output, Produced.with(Serdes.String(), Serdes.String()));

        Timing timing;
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props);
                Admin admin =
                        Admin.create(
                                Map.of(
                                        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                                        context.bootstrapServers()))) {
            timing =
                    EndToEndScenario.time(
                            () -> {
                                streams.start();
                                awaitCommitted(streams, admin, applicationId, input);
                            });
            streams.close(Duration.ofSeconds(30));
            streams.cleanUp();
        }
        return EndToEndScenario.verifyLatest(context, input, output, input.counts, "count", timing);
    }

    /** Waits until the application committed offsets covering every input record. */
    private static void awaitCommitted(
            KafkaStreams streams, Admin admin, String applicationId, EndToEndInput input)
            throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            if (streams.state() == KafkaStreams.State.ERROR
                    || streams.state() == KafkaStreams.State.PENDING_ERROR) {
                throw new IllegalStateException("Kafka Streams failed (state ERROR)");
            }
            long committed = 0;
            for (OffsetAndMetadata offset :
                    admin.listConsumerGroupOffsets(applicationId)
                            .partitionsToOffsetAndMetadata()
                            .get()
                            .values()) {
                if (offset != null) {
                    committed += offset.offset();
                }
            }
            if (committed >= input.records) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Kafka Streams committed "
                                + committed
                                + " of "
                                + input.records
                                + " records within "
                                + LIMIT);
            }
            Thread.sleep(20);
        }
    }

    /** String keys, marking the first record read. */
    public static final class MarkingKeys implements Deserializer<String> {
        private final StringDeserializer delegate = new StringDeserializer();

        @Override
        public String deserialize(String topic, byte[] data) {
            FirstRecordClock.mark();
            return delegate.deserialize(topic, data);
        }
    }
}
