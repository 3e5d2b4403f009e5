package io.github.flinkkafkakit.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Runs the embedded broker's request paths once before the forked scenarios: group fetches and
 * offset commits, transactional writes to a compacted topic, {@code read_committed} and plain
 * reads. The broker shares the machine's two cores with the scenario's JVM, and without this the
 * first scenario paid for the broker's JIT: per-thread CPU of the bench process showed 5–7 s (C2
 * 2.5–3.4 s, request handlers 1.5–2.1 s) during the first scenario and 2 s during the second,
 * whichever of the two ran first, and that scenario's rate dropped by up to a third.
 */
final class BrokerWarmup {

    private static final int RECORDS_PER_TRANSACTION = 20_000;

    /** Longest each pass may take: a missing record must fail the run, not hang it. */
    private static final Duration LIMIT = Duration.ofMinutes(2);

    private BrokerWarmup() {}

    /** Copies {@code input} transactionally to a compacted scratch topic and reads it back. */
    static void run(EndToEndContext context, EndToEndInput input) {
        String copy =
                context.createTopic(
                        "broker-warmup", context.partitions(), Map.of("cleanup.policy", "compact"));
        String group = context.uniqueName("broker-warmup");
        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, context.bootstrapServers());
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, group);
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        producerProps.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(context, group, "read_committed");
                KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(
                                producerProps,
                                new ByteArraySerializer(),
                                new ByteArraySerializer())) {
            producer.initTransactions();
            consumer.subscribe(List.of(input.topic));
            long copied = 0;
            long inTransaction = 0;
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            producer.beginTransaction();
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while (copied < input.records) {
                checkDeadline(deadline, "copy '" + input.topic + "'");
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    producer.send(new ProducerRecord<>(copy, r.key(), r.value()));
                    offsets.put(
                            new TopicPartition(r.topic(), r.partition()),
                            new OffsetAndMetadata(r.offset() + 1));
                }
                copied += records.count();
                inTransaction += records.count();
                if (inTransaction >= RECORDS_PER_TRANSACTION || copied >= input.records) {
                    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                    producer.commitTransaction();
                    offsets.clear();
                    inTransaction = 0;
                    if (copied < input.records) {
                        producer.beginTransaction();
                    }
                }
            }
        }
        for (String isolation : new String[] {"read_committed", "read_uncommitted"}) {
            try (KafkaConsumer<byte[], byte[]> consumer =
                    consumer(context, context.uniqueName("broker-warmup-read"), isolation)) {
                consumer.subscribe(List.of(copy));
                // to the end offsets rather than a record count: the copy is compacted
                long deadline = System.nanoTime() + LIMIT.toNanos();
                while (!atEnd(consumer)) {
                    checkDeadline(deadline, "read '" + copy + "' back (" + isolation + ")");
                    consumer.poll(Duration.ofMillis(100));
                }
                consumer.commitSync();
            }
        }
    }

    /** Whether the consumer has partitions and has read each of them to its end. */
    private static boolean atEnd(KafkaConsumer<byte[], byte[]> consumer) {
        Set<TopicPartition> assigned = consumer.assignment();
        if (assigned.isEmpty()) {
            return false;
        }
        for (Map.Entry<TopicPartition, Long> end : consumer.endOffsets(assigned).entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static void checkDeadline(long deadline, String what) {
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                    "broker warm-up: could not " + what + " within " + LIMIT.toMinutes() + " min");
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(
            EndToEndContext context, String group, String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, context.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
