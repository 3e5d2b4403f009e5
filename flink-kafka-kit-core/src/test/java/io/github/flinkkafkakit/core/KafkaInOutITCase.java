package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** A bounded KafkaIn → map → KafkaOut job: every record arrives once, with its key. */
class KafkaInOutITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @ParameterizedTest(name = "{0}, parallelism {1}")
    @CsvSource({"EXACTLY_ONCE, 1", "EXACTLY_ONCE, 2", "AT_LEAST_ONCE, 2"})
    void shouldCopyEveryRecordWithItsKeyExactlyOnce(DeliveryGuarantee guarantee, int parallelism)
            throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("in", 3);
        String out = kafka.createUniqueTopic("out", 2);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            records.add(KeyValue.of("k" + (i % 37), "v" + i));
        }
        kafka.produce(in, records);

        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(300);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, String>> source =
                KafkaIn.<Tuple2<String, String>>builder()
                        .setConnection(connection)
                        .setTopics(in)
                        .setGroupId("copy-" + in)
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.string()))
                        .setBounded(true)
                        .build();
        DataStream<Tuple2<String, String>> upper =
                source.createStream(env)
                        .map(t -> Tuple2.of(t.f0, t.f1.toUpperCase()))
                        .returns(Types.TUPLE(Types.STRING, Types.STRING));
        KafkaOut.<Tuple2<String, String>>builder()
                .setConnection(connection)
                .setTopic(out)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.string())
                .setDeliveryGuarantee(guarantee)
                .setTransactionalIdPrefix("copy-" + out)
                .build()
                .writeTo(upper);

        env.execute("copy");
        source.commitStoppingOffsets();

        List<ConsumerRecord<String, String>> written = kafka.consumeAll(out);
        assertThat(written.stream().map(r -> r.key() + "=" + r.value()).sorted())
                .containsExactlyElementsOf(
                        records.stream()
                                .map(kv -> kv.key() + "=" + kv.value().toUpperCase())
                                .sorted()
                                .collect(Collectors.toList()));
        Map<String, Long> committed =
                kafka
                        .admin()
                        .listConsumerGroupOffsets("copy-" + in)
                        .partitionsToOffsetAndMetadata()
                        .get()
                        .entrySet()
                        .stream()
                        .collect(
                                Collectors.toMap(
                                        e -> e.getKey().toString(), e -> e.getValue().offset()));
        assertThat(committed.values().stream().mapToLong(Long::longValue).sum())
                .isEqualTo(records.size());
    }
}
