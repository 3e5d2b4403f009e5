package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.AvroSerdes;
import io.github.flinkkafkakit.core.serde.KafkaSerdes;
import io.github.flinkkafkakit.core.serde.Point;
import io.github.flinkkafkakit.core.serde.RecordingPointSerde;
import io.github.flinkkafkakit.core.serde.Serde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.core.serde.avro.SensorReading;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The serde adapters end to end: Avro (specific and generic) written by a plain Kafka producer,
 * read, changed and written by a job, read back committed and decoded with plain Avro; and a Kafka
 * serde adapter that records which topic and key flag it was given. Generic types are disabled and
 * the restart strategy is "none", so any Kryo fallback or any failure fails the test.
 */
class SerdeInteropITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int N = 200;

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(300);
        return env;
    }

    private static <T> KafkaIn<T> source(
            String topic,
            org.apache.flink.connector.kafka.source.reader.deserializer
                                    .KafkaRecordDeserializationSchema<
                            T>
                    deserializer) {
        return KafkaIn.<T>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(topic)
                .setGroupId("g-" + topic)
                .setDeserializer(deserializer)
                .setBounded(true)
                .build();
    }

    private static <K, V> void produce(
            String topic, Serializer<K> keys, Serializer<V> values, List<Map.Entry<K, V>> records) {
        Properties props = new Properties();
        props.putAll(KAFKA.clientProperties());
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<K, V> producer = new KafkaProducer<>(props, keys, values)) {
            for (Map.Entry<K, V> r : records) {
                producer.send(new ProducerRecord<>(topic, r.getKey(), r.getValue()));
            }
            producer.flush();
        }
    }

    private static <T> byte[] avro(DatumWriter<T> writer, T value) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            writer.write(value, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> T fromAvro(DatumReader<T> reader, byte[] bytes) {
        try {
            return reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SensorReading reading(int i) {
        return SensorReading.newBuilder()
                .setSensor("sensor-" + i)
                .setReading(i * 0.5)
                .setCount(i)
                .setUnit(i % 3 == 0 ? null : "C")
                .build();
    }

    /** Doubles the reading, counts one more and fills a missing unit. */
    public static final class Calibrate implements MapFunction<SensorReading, SensorReading> {
        @Override
        public SensorReading map(SensorReading r) {
            return SensorReading.newBuilder(r)
                    .setReading(r.getReading() * 2)
                    .setCount(r.getCount() + 1)
                    .setUnit(r.getUnit() == null ? "unknown" : r.getUnit())
                    .build();
        }
    }

    @Test
    void shouldRoundTripAvroSpecificRecords() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("avro-specific-in", 2);
        String out = kafka.createUniqueTopic("avro-specific-out", 2);
        DatumWriter<SensorReading> writer = new SpecificDatumWriter<>(SensorReading.class);
        List<Map.Entry<String, byte[]>> input = new java.util.ArrayList<>();
        for (int i = 0; i < N; i++) {
            input.add(Map.entry("sensor-" + i, avro(writer, reading(i))));
        }
        produce(in, new StringSerializer(), new ByteArraySerializer(), input);

        Serde<SensorReading> serde = AvroSerdes.specific(SensorReading.class);
        StreamExecutionEnvironment env = env();
        DataStream<SensorReading> readings =
                source(in, KafkaDeserializers.values(serde)).createStream(env);
        DataStream<SensorReading> calibrated =
                readings.map(new Calibrate()).returns(serde.typeInformation());
        KafkaOut.<SensorReading>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setKey(SensorReading::getSensor, Serdes.string())
                .setValue(r -> r, serde)
                .setTransactionalIdPrefix("tx-" + out)
                .build()
                .writeTo(calibrated);
        env.execute("avro specific round trip");

        assertThat(readings.getType()).isInstanceOf(AvroTypeInfo.class);
        Map<String, SensorReading> expected = new HashMap<>();
        for (int i = 0; i < N; i++) {
            SensorReading r = reading(i);
            expected.put(
                    r.getSensor(),
                    new SensorReading(
                            r.getSensor(),
                            r.getReading() * 2,
                            r.getCount() + 1,
                            r.getUnit() == null ? "unknown" : r.getUnit()));
        }
        DatumReader<SensorReading> reader = new SpecificDatumReader<>(SensorReading.class);
        Map<String, SensorReading> actual = new HashMap<>();
        List<ConsumerRecord<byte[], byte[]>> written =
                kafka.consumeAllBytes(out, KafkaTestClient.DEFAULT_IDLE);
        StringDeserializer strings = new StringDeserializer();
        for (ConsumerRecord<byte[], byte[]> r : written) {
            SensorReading value = fromAvro(reader, r.value());
            assertThat(strings.deserialize(out, r.key())).isEqualTo(value.getSensor());
            actual.put(value.getSensor(), value);
        }
        assertThat(written).hasSize(N);
        assertThat(actual).isEqualTo(expected);
    }

    static final Schema ORDER =
            new Schema.Parser()
                    .parse(
                            "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"shop\","
                                    + "\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
                                    + "{\"name\":\"item\",\"type\":\"string\"},"
                                    + "{\"name\":\"qty\",\"type\":\"int\"},"
                                    + "{\"name\":\"note\",\"type\":[\"null\",\"string\"],"
                                    + "\"default\":null}]}");

    private static GenericRecord order(long id, String item, int qty, String note) {
        GenericRecord r = new GenericData.Record(ORDER);
        r.put("id", id);
        r.put("item", item);
        r.put("qty", qty);
        r.put("note", note);
        return r;
    }

    /** Ten times the quantity, the item upper-cased and a note of where it was seen. */
    public static final class Restock implements MapFunction<GenericRecord, GenericRecord> {
        @Override
        public GenericRecord map(GenericRecord r) {
            GenericRecord o = new GenericData.Record(r.getSchema());
            o.put("id", r.get("id"));
            o.put("item", r.get("item").toString().toUpperCase(java.util.Locale.ROOT));
            o.put("qty", (Integer) r.get("qty") * 10);
            o.put("note", "restocked");
            return o;
        }
    }

    @Test
    void shouldRoundTripAvroGenericRecords() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("avro-generic-in", 2);
        String out = kafka.createUniqueTopic("avro-generic-out", 2);
        DatumWriter<GenericRecord> writer = new GenericDatumWriter<>(ORDER);
        List<Map.Entry<Long, byte[]>> input = new java.util.ArrayList<>();
        for (int i = 0; i < N; i++) {
            input.add(
                    Map.entry(
                            (long) i,
                            avro(writer, order(i, "item-" + i, i % 7, i % 2 == 0 ? null : "n"))));
        }
        produce(in, new LongSerializer(), new ByteArraySerializer(), input);

        Serde<GenericRecord> serde = AvroSerdes.generic(ORDER);
        StreamExecutionEnvironment env = env();
        DataStream<GenericRecord> orders =
                source(in, KafkaDeserializers.values(serde)).createStream(env);
        DataStream<GenericRecord> restocked =
                orders.map(new Restock()).returns(serde.typeInformation());
        KafkaOut.<GenericRecord>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setValue(r -> r, serde)
                .setTransactionalIdPrefix("tx-" + out)
                .build()
                .writeTo(restocked);
        env.execute("avro generic round trip");

        assertThat(orders.getType()).isInstanceOf(GenericRecordAvroTypeInfo.class);
        Map<Long, String> expected = new HashMap<>();
        for (int i = 0; i < N; i++) {
            expected.put((long) i, order(i, "ITEM-" + i, (i % 7) * 10, "restocked").toString());
        }
        DatumReader<GenericRecord> reader = new GenericDatumReader<>(ORDER);
        Map<Long, String> actual = new HashMap<>();
        List<ConsumerRecord<byte[], byte[]>> written =
                kafka.consumeAllBytes(out, KafkaTestClient.DEFAULT_IDLE);
        for (ConsumerRecord<byte[], byte[]> r : written) {
            GenericRecord value = fromAvro(reader, r.value());
            assertThat(r.key()).isNull();
            actual.put((Long) value.get("id"), value.toString());
        }
        assertThat(written).hasSize(N);
        assertThat(actual).isEqualTo(expected);
    }

    /** Key times ten; the point moved by (1, 2). */
    public static final class Shift
            implements MapFunction<Tuple2<Long, Point>, Tuple2<Long, Point>> {
        @Override
        public Tuple2<Long, Point> map(Tuple2<Long, Point> t) {
            return Tuple2.of(t.f0 * 10, new Point(t.f1.x() + 1, t.f1.y() + 2));
        }
    }

    @Test
    void shouldPassTopicAndKeyFlagToKafkaSerdes() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("kafka-serde-in", 2);
        String out = kafka.createUniqueTopic("kafka-serde-out", 2);
        RecordingPointSerde points = new RecordingPointSerde();
        points.configure(Map.of(), false);
        List<Map.Entry<Long, Point>> input = new java.util.ArrayList<>();
        for (int i = 0; i < N; i++) {
            input.add(Map.entry((long) i, new Point(i, -i)));
        }
        produce(in, new LongSerializer(), points.serializer(), input);

        String keyReadId = "keys-read-" + in;
        String keyWriteId = "keys-written-" + in;
        String valueId = "values-" + in;
        Serde<Long> keysIn =
                KafkaSerdes.ofDeserializer(
                        RecordingPointSerde.LongReader::new,
                        Map.of(RecordingPointSerde.TEST_ID, keyReadId),
                        true,
                        Types.LONG);
        Serde<Long> keysOut =
                KafkaSerdes.ofSerializer(
                        RecordingPointSerde.Longs::new,
                        Map.of(RecordingPointSerde.TEST_ID, keyWriteId),
                        true,
                        Types.LONG);
        Serde<Point> values =
                KafkaSerdes.of(
                        RecordingPointSerde::new,
                        Map.of(RecordingPointSerde.TEST_ID, valueId),
                        false,
                        TypeInformation.of(Point.class));

        StreamExecutionEnvironment env = env();
        DataStream<Tuple2<Long, Point>> pairs =
                source(in, KafkaDeserializers.keyValues(keysIn, values)).createStream(env);
        DataStream<Tuple2<Long, Point>> shifted = pairs.map(new Shift()).returns(pairs.getType());
        KafkaOut.<Tuple2<Long, Point>>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setKey(t -> t.f0, keysOut)
                .setValue(t -> t.f1, values)
                .setTransactionalIdPrefix("tx-" + out)
                .build()
                .writeTo(shifted);
        env.execute("kafka serde adapters");

        Map<Long, Point> expected = new HashMap<>();
        for (int i = 0; i < N; i++) {
            expected.put(i * 10L, new Point(i + 1, -i + 2));
        }
        Map<Long, Point> actual = new HashMap<>();
        LongDeserializer longs = new LongDeserializer();
        List<ConsumerRecord<byte[], byte[]>> written =
                kafka.consumeAllBytes(out, KafkaTestClient.DEFAULT_IDLE);
        for (ConsumerRecord<byte[], byte[]> r : written) {
            actual.put(
                    longs.deserialize(out, r.key()),
                    points.deserializer().deserialize(out, r.value()));
        }
        assertThat(written).hasSize(N);
        assertThat(actual).isEqualTo(expected);

        assertThat(RecordingPointSerde.events(keyReadId))
                .containsExactlyInAnyOrder("configure isKey=true", "deserialize topic=" + in);
        assertThat(RecordingPointSerde.events(keyWriteId))
                .containsExactlyInAnyOrder("configure isKey=true", "serialize topic=" + out);
        assertThat(RecordingPointSerde.events(valueId))
                .containsExactlyInAnyOrder(
                        "configure isKey=false",
                        "deserialize topic=" + in,
                        "serialize topic=" + out);
        assertThat(RecordingPointSerde.count(valueId, "deserialize topic=" + in)).isEqualTo(N);
        assertThat(RecordingPointSerde.count(valueId, "serialize topic=" + out)).isEqualTo(N);
    }
}
