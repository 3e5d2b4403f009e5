package io.github.flinkkafkakit.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * {@code kafka-pipe}: the ceiling. A plain consumer copies every record to the output topic through
 * a producer, both tuned for throughput as a careful engineer would: large producer batches ({@code
 * batch.size=262144}, {@code linger.ms=10}) and large polls ({@code max.poll.records=5000}, {@code
 * max.partition.fetch.bytes=4 MiB}); no state, no guarantees beyond the producer's defaults.
 */
final class KafkaPipeScenario implements EndToEndScenario {

    @Override
    public String name() {
        return "kafka-pipe";
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String output = context.createTopic("pipe-out");
        Timing timing = EndToEndScenario.time(() -> copy(context, input, output));
        EndToEndOutput result = EndToEndOutput.read(context.bootstrapServers(), output, input.keys);
        result.checkCopy(input);
        return Measurement.of(
                input.records,
                timing,
                String.format("%,d records copied, per-key counts and sums exact", result.records));
    }

    private static void copy(EndToEndContext context, EndToEndInput input, String output) {
        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, context.bootstrapServers());
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, context.uniqueName("pipe"));
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, context.bootstrapServers());
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        consumerProps.put(
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(4 << 20));
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        producerProps.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        try (KafkaConsumer<byte[], byte[]> consumer =
                        new KafkaConsumer<>(
                                consumerProps,
                                new ByteArrayDeserializer(),
                                new ByteArrayDeserializer());
                KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(
                                producerProps,
                                new ByteArraySerializer(),
                                new ByteArraySerializer())) {
            consumer.subscribe(List.of(input.topic));
            long copied = 0;
            while (copied < input.records) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (!records.isEmpty()) {
                    FirstRecordClock.mark();
                }
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    producer.send(new ProducerRecord<>(output, r.key(), r.value()));
                }
                copied += records.count();
            }
            producer.flush();
        }
    }
}
