package io.github.flinkkafkakit.core.serde;

import io.github.flinkkafkakit.core.serde.avro.SensorReading;

import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.util.InstantiationUtil;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link AvroSerdes} outside a job: plain Avro binary, Flink's Avro type information, nulls. */
class AvroSerdesTest {

    private static <T> Serde<T> copy(Serde<T> serde) throws Exception {
        return InstantiationUtil.deserializeObject(
                InstantiationUtil.serializeObject(serde), AvroSerdesTest.class.getClassLoader());
    }

    @Test
    void avroSpecificIsPlainAvroBinaryWithAvroTypeInfo() throws Exception {
        Serde<SensorReading> serde = copy(AvroSerdes.specific(SensorReading.class));
        SensorReading r =
                SensorReading.newBuilder()
                        .setSensor("s-1")
                        .setReading(21.5)
                        .setCount(3)
                        .setUnit(null)
                        .build();
        byte[] bytes = serde.serialize("t", r);

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(expected, null);
        new SpecificDatumWriter<>(SensorReading.class).write(r, encoder);
        encoder.flush();
        assertThat(bytes).isEqualTo(expected.toByteArray());

        assertThat(serde.deserialize("t", bytes)).isEqualTo(r);
        assertThat(serde.typeInformation()).isInstanceOf(AvroTypeInfo.class);
        assertThat(serde.typeInformation().getTypeClass()).isEqualTo(SensorReading.class);
        assertThat(serde.serialize(null)).isNull();
        assertThat(serde.deserialize(null)).isNull();
    }

    static final Schema ORDER =
            new Schema.Parser()
                    .parse(
                            "{\"type\":\"record\",\"name\":\"Order\",\"fields\":["
                                    + "{\"name\":\"id\",\"type\":\"long\"},"
                                    + "{\"name\":\"item\",\"type\":\"string\"},"
                                    + "{\"name\":\"qty\",\"type\":\"int\"}]}");

    @Test
    void avroGenericRoundTripsWithGenericRecordTypeInfo() throws Exception {
        Serde<GenericRecord> serde = copy(AvroSerdes.generic(ORDER));
        GenericRecord order = new GenericData.Record(ORDER);
        order.put("id", 7L);
        order.put("item", "tea");
        order.put("qty", 2);
        byte[] bytes = serde.serialize("t", order);

        GenericRecord decoded =
                new GenericDatumReader<GenericRecord>(ORDER)
                        .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
        assertThat(decoded.toString()).isEqualTo(order.toString());
        assertThat(serde.deserialize("t", bytes).toString()).isEqualTo(order.toString());
        assertThat(serde.typeInformation()).isInstanceOf(GenericRecordAvroTypeInfo.class);
        assertThat(serde.serialize(null)).isNull();
        assertThat(serde.deserialize(null)).isNull();

        assertThatThrownBy(() -> serde.deserialize("t", new byte[] {(byte) 0xff}))
                .isInstanceOf(UncheckedIOException.class);
    }

    @Test
    void avroGenericBytesMatchPlainAvroWriter() throws Exception {
        GenericRecord order = new GenericData.Record(ORDER);
        order.put("id", 1L);
        order.put("item", "x");
        order.put("qty", 1);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(expected, null);
        new GenericDatumWriter<GenericRecord>(ORDER).write(order, encoder);
        encoder.flush();
        assertThat(AvroSerdes.generic(ORDER).serialize(order)).isEqualTo(expected.toByteArray());
    }
}
