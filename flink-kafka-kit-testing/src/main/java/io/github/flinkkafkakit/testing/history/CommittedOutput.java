package io.github.flinkkafkakit.testing.history;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Reads the whole committed output of a topic: {@code read_committed}, from the beginning (or given
 * offsets) to the end offsets taken when the read starts (the last stable offsets: every
 * transaction committed by then), with no waiting for silence. Call it once the job that writes the
 * topic has ended (or has committed what the caller waits for); records committed later are not
 * read.
 *
 * <pre>{@code
 * KeyedHistory<String> history = ...;                      // inputs, in input order
 * for (ConsumerRecord<String, String> r : CommittedOutput.read(bootstrap, "counts"))
 *     history.output(r.key(), Long.parseLong(r.value()));
 * }</pre>
 */
@PublicEvolving
public final class CommittedOutput {

    /** The longest a read may take before it fails (a stuck broker, not a slow job). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private CommittedOutput() {}

    /** Every committed String record of {@code topic}, in partition order (empty if no topic). */
    public static List<ConsumerRecord<String, String>> read(String bootstrapServers, String topic) {
        return read(bootstrapServers, topic, Map.of());
    }

    /**
     * The committed String records of {@code topic} from {@code from} (partition → offset; a
     * partition not in it from the beginning) to the current last stable offsets.
     */
    public static List<ConsumerRecord<String, String>> read(
            String bootstrapServers, String topic, Map<Integer, Long> from) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return read(
                props,
                topic,
                from,
                new StringDeserializer(),
                new StringDeserializer(),
                DEFAULT_TIMEOUT);
    }

    /** Every committed record of {@code topic} as raw bytes, headers included. */
    public static List<ConsumerRecord<byte[], byte[]>> readBytes(
            String bootstrapServers, String topic) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return read(
                props,
                topic,
                Map.of(),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer(),
                DEFAULT_TIMEOUT);
    }

    /**
     * The general form: {@code clientProperties} (bootstrap servers, security) for the consumer,
     * which this method sets to {@code read_committed} without auto-commit; fails when the end is
     * not reached within {@code timeout}.
     */
    public static <K, V> List<ConsumerRecord<K, V>> read(
            Properties clientProperties,
            String topic,
            Map<Integer, Long> from,
            Deserializer<K> keys,
            Deserializer<V> values,
            Duration timeout) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        // Reading must not create the topic (a job may create it later with its own settings).
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        List<ConsumerRecord<K, V>> result = new ArrayList<>();
        Map<TopicPartition, Long> end;
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, timeout).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .collect(Collectors.toList());
            if (partitions.isEmpty()) {
                return result;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            for (TopicPartition tp : partitions) {
                Long offset = from.get(tp.partition());
                if (offset != null) {
                    consumer.seek(tp, offset);
                }
            }
            // With read_committed, endOffsets are the last stable offsets.
            end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "Reading "
                                    + topic
                                    + " did not reach the last stable offsets "
                                    + byPartition(end)
                                    + " within "
                                    + timeout.toSeconds()
                                    + " s (at "
                                    + byPartition(positions(consumer, end))
                                    + ")");
                }
                consumer.poll(Duration.ofMillis(100)).forEach(result::add);
            }
        }
        // Records past the end taken at the start were committed later: leave them out, so the
        // result is one consistent cut.
        Map<TopicPartition, Long> cut = end;
        result.removeIf(r -> r.offset() >= cut.get(new TopicPartition(r.topic(), r.partition())));
        return result;
    }

    private static boolean reached(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Map<TopicPartition, Long> positions(
            KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        Map<TopicPartition, Long> at = new TreeMap<>((a, b) -> a.partition() - b.partition());
        end.keySet().forEach(tp -> at.put(tp, consumer.position(tp)));
        return at;
    }

    private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
        Map<Integer, Long> out = new TreeMap<>();
        offsets.forEach((tp, o) -> out.put(tp.partition(), o));
        return out;
    }
}
