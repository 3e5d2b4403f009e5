package io.github.flinkkafkakit.core.serde;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.InstantiationUtil;

import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Kafka serde and Flink schema adapters outside a job. */
class SerdeInteropTest {

    private static <T> Serde<T> copy(Serde<T> serde) throws Exception {
        return InstantiationUtil.deserializeObject(
                InstantiationUtil.serializeObject(serde), SerdeInteropTest.class.getClassLoader());
    }

    private static String uniqueId(String name) {
        return name + "-" + System.nanoTime();
    }

    @Test
    void kafkaSerdeAdapterConfiguresLazilyAndPassesTopicAndKeyFlag() throws Exception {
        String id = uniqueId("unit");
        Serde<Point> serde =
                KafkaSerdes.of(
                        RecordingPointSerde::new,
                        Map.of(RecordingPointSerde.TEST_ID, id),
                        true,
                        TypeInformation.of(Point.class));
        assertThat(RecordingPointSerde.events(id)).isEmpty();

        Serde<Point> shipped = copy(serde);
        byte[] bytes = shipped.serialize("points", new Point(3, -4));
        assertThat(shipped.deserialize("points-2", bytes)).isEqualTo(new Point(3, -4));
        assertThat(shipped.deserialize(bytes)).isEqualTo(new Point(3, -4));

        assertThat(RecordingPointSerde.events(id))
                .containsExactlyInAnyOrder(
                        "configure isKey=true",
                        "serialize topic=points",
                        "deserialize topic=points-2",
                        "deserialize topic=null");
        assertThat(RecordingPointSerde.count(id, "configure isKey=true")).isEqualTo(1);
        assertThat(shipped.typeInformation()).isEqualTo(TypeInformation.of(Point.class));
    }

    @Test
    void kafkaSerdeAdapterKeepsNullWithoutCallingKafka() throws Exception {
        String id = uniqueId("nulls");
        Serde<Point> serde =
                copy(
                        KafkaSerdes.of(
                                RecordingPointSerde::new,
                                Map.of(RecordingPointSerde.TEST_ID, id),
                                false,
                                TypeInformation.of(Point.class)));
        assertThat(serde.serialize("t", null)).isNull();
        assertThat(serde.deserialize("t", null)).isNull();
        assertThat(serde.serialize(null)).isNull();
        assertThat(serde.deserialize(null)).isNull();
        assertThat(RecordingPointSerde.events(id)).isEmpty();
    }

    @Test
    void kafkaSerializerDeserializerPairRoundTrips() throws Exception {
        Serde<Long> longs =
                copy(
                        KafkaSerdes.of(
                                LongSerializer::new,
                                LongDeserializer::new,
                                Map.of(),
                                false,
                                Types.LONG));
        assertThat(longs.serialize("t", 42L)).isEqualTo(new LongSerializer().serialize("t", 42L));
        assertThat(longs.deserialize("t", longs.serialize("t", -7L))).isEqualTo(-7L);
        assertThat(
                        copy(KafkaSerdes.of(
                                        org.apache.kafka.common.serialization.Serdes.LongSerde::new,
                                        Long.class))
                                .deserialize(longs.serialize(9L)))
                .isEqualTo(9L);
    }

    @Test
    void oneWayKafkaAdaptersRefuseTheOtherDirection() throws Exception {
        Serde<Long> write =
                copy(KafkaSerdes.ofSerializer(LongSerializer::new, Map.of(), true, Types.LONG));
        Serde<Long> read =
                copy(KafkaSerdes.ofDeserializer(LongDeserializer::new, Map.of(), true, Types.LONG));
        byte[] bytes = write.serialize("t", 5L);
        assertThat(read.deserialize("t", bytes)).isEqualTo(5L);
        assertThatThrownBy(() -> write.deserialize("t", bytes))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> read.serialize("t", 5L))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void kafkaAdapterRejectsConfigsThatCannotTravel() {
        Map<String, Object> configs = new HashMap<>();
        configs.put("client", new Object());
        assertThatThrownBy(
                        () ->
                                KafkaSerdes.of(
                                        RecordingPointSerde::new,
                                        configs,
                                        false,
                                        TypeInformation.of(Point.class)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'client'");
    }

    /** Counts its opens, so the test sees the adapter open it once per copy. */
    static final class CountingSchema extends SimpleStringSchema {
        static final AtomicInteger OPENS = new AtomicInteger();
        static volatile ClassLoader openedWith;

        @Override
        public void open(DeserializationSchema.InitializationContext context) {
            OPENS.incrementAndGet();
            openedWith = context.getUserCodeClassLoader().asClassLoader();
            assertThat(context.getMetricGroup()).isNotNull();
        }

        @Override
        public void open(SerializationSchema.InitializationContext context) {
            OPENS.incrementAndGet();
            assertThat(context.getMetricGroup()).isNotNull();
        }
    }

    @Test
    void flinkSchemaAdapterOpensOnceAndKeepsNull() throws Exception {
        Serde<String> serde = copy(SchemaSerdes.of(new CountingSchema(), new CountingSchema()));
        int before = CountingSchema.OPENS.get();
        assertThat(serde.serialize(null)).isNull();
        assertThat(serde.deserialize(null)).isNull();
        assertThat(CountingSchema.OPENS.get()).isEqualTo(before);

        for (int i = 0; i < 3; i++) {
            assertThat(serde.deserialize("t", serde.serialize("t", "héllo " + i)))
                    .isEqualTo("héllo " + i);
        }
        assertThat(CountingSchema.OPENS.get()).isEqualTo(before + 2);
        assertThat(CountingSchema.openedWith)
                .isSameAs(Thread.currentThread().getContextClassLoader());
        assertThat(serde.typeInformation()).isEqualTo(Types.STRING);
    }

    @Test
    void oneWaySchemaAdaptersRefuseTheOtherDirection() throws Exception {
        Serde<String> read = copy(SchemaSerdes.ofDeserializer(new SimpleStringSchema()));
        Serde<String> write =
                copy(SchemaSerdes.ofSerializer(new SimpleStringSchema(), Types.STRING));
        assertThat(read.deserialize(write.serialize("x"))).isEqualTo("x");
        assertThat(read.typeInformation()).isEqualTo(Types.STRING);
        assertThat(write.typeInformation()).isEqualTo(Types.STRING);
        assertThatThrownBy(() -> read.serialize("x"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> write.deserialize(new byte[] {1}))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
