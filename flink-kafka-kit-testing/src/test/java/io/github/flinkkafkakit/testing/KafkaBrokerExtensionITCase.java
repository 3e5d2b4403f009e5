package io.github.flinkkafkakit.testing;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

class KafkaBrokerExtensionITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void shouldRoundTripKeyedRecordsThroughAFreshTopic(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("roundtrip", 3);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            records.add(KeyValue.of("k" + (i % 7), Integer.toString(i)));
        }

        kafka.produce(topic, records);

        List<ConsumerRecord<String, String>> read = kafka.consumeAll(topic);
        assertThat(read).hasSize(1000);
        assertThat(KafkaTestClient.countBy(read, ConsumerRecord::key))
                .isEqualTo(KafkaTestClient.countBy(records, KeyValue::key));
    }

    /** {@code consumeAllBytes(topic)} reads like {@code consumeAll(topic)}, headers included. */
    @Test
    void shouldConsumeAllBytesWithTheDefaultIdleTime(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("bytes", 2);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                ProducerRecord<String, String> record =
                        new ProducerRecord<>(topic, "k" + i, Integer.toString(i));
                record.headers().add("h", new byte[] {(byte) i});
                producer.send(record);
            }
        }

        List<ConsumerRecord<byte[], byte[]>> read = kafka.consumeAllBytes(topic);

        assertThat(read).hasSize(10);
        assertThat(read)
                .allSatisfy(
                        r ->
                                assertThat(r.headers().lastHeader("h").value())
                                        .containsExactly(
                                                Byte.parseByte(new String(r.value(), UTF_8))));
        assertThat(read.stream().map(r -> new String(r.key(), UTF_8)).sorted())
                .containsExactlyElementsOf(
                        kafka.consumeAll(topic).stream()
                                .map(ConsumerRecord::key)
                                .sorted()
                                .toList());
    }

    @Test
    void shouldHideUncommittedAndAbortedTransactionsFromConsumeAll(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("txn", 1);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn-test-" + topic);
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a", "committed"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a", "aborted"));
            producer.abortTransaction();
        }

        Map<String, String> latest = kafka.latestValuePerKey(topic);

        assertThat(latest).containsExactly(Map.entry("a", "committed"));
    }

    @Test
    void shouldGiveEachCallAUniqueTopicName() {
        assertThat(KafkaTestClient.uniqueTopicName("t"))
                .isNotEqualTo(KafkaTestClient.uniqueTopicName("t"))
                .startsWith("t-");
    }
}
