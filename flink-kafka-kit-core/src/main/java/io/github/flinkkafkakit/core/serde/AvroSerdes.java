package io.github.flinkkafkakit.core.serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.formats.avro.AvroDeserializationSchema;
import org.apache.flink.formats.avro.AvroSerializationSchema;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro binary records (no schema-registry framing) as {@link Serde}s, through Flink's {@code
 * flink-avro} format. The kit declares {@code flink-avro} optional: a job that uses this class adds
 * {@code org.apache.flink:flink-avro} (same version as Flink) to its own dependencies.
 *
 * <pre>{@code
 * Serde<SensorReading> readings = AvroSerdes.specific(SensorReading.class);
 * Serde<GenericRecord> generic = AvroSerdes.generic(schema);
 * }</pre>
 *
 * <p>The type information is Flink's Avro one ({@code AvroTypeInfo} for specific records, {@code
 * GenericRecordAvroTypeInfo} for generic ones), so records move between operators with Avro's
 * serializer, not Kryo. For Confluent-framed Avro, adapt the registry's Kafka serde with {@link
 * KafkaSerdes}.
 */
@PublicEvolving
public final class AvroSerdes {

    private AvroSerdes() {}

    /** Records of a generated Avro class, written and read with its own schema. */
    public static <T extends SpecificRecord> Serde<T> specific(Class<T> type) {
        if (type == null) {
            throw new IllegalArgumentException("Avro record class must not be null");
        }
        return SchemaSerdes.of(
                AvroSerializationSchema.forSpecific(type),
                AvroDeserializationSchema.forSpecific(type));
    }

    /** {@link GenericRecord}s of {@code schema}, written and read with it. */
    public static Serde<GenericRecord> generic(Schema schema) {
        if (schema == null) {
            throw new IllegalArgumentException("Avro schema must not be null");
        }
        return SchemaSerdes.of(
                AvroSerializationSchema.forGeneric(schema),
                AvroDeserializationSchema.forGeneric(schema));
    }
}
