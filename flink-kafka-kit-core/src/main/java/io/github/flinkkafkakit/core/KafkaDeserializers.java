package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What a {@link KafkaIn} source emits per Kafka record: the key, the value, both, or the whole
 * record as a {@link KafkaRecord}.
 *
 * <pre>{@code
 * KafkaIn<String> keys = KafkaIn.<String>builder()
 *         .setDeserializer(KafkaDeserializers.keys(Serdes.string()))
 *         ...
 * }</pre>
 */
@PublicEvolving
public final class KafkaDeserializers {

    private KafkaDeserializers() {}

    /**
     * The record key only. A record without a key is read as the key of zero bytes (the empty
     * string for {@link io.github.flinkkafkakit.core.serde.Serdes#string()}), so it is still
     * counted rather than dropped.
     */
    public static <K> KafkaRecordDeserializationSchema<K> keys(Serde<K> keySerde) {
        return new KeyOnly<>(keySerde);
    }

    /** The record value only; records with a {@code null} value (tombstones) are skipped. */
    public static <V> KafkaRecordDeserializationSchema<V> values(Serde<V> valueSerde) {
        return new ValueOnly<>(valueSerde);
    }

    /**
     * Key and value as a {@link Tuple2} ({@code f0} = key, {@code f1} = value); a missing key is
     * read as the key of zero bytes. A record without a value (a tombstone), or one a serde reads
     * as {@code null}, cannot be a {@code Tuple2} field: it fails to deserialize and so follows the
     * source's error policy (dead-lettered, skipped, logged or failing the job) instead of failing
     * the job later in Flink's serializer. Use {@link #records} to receive tombstones.
     */
    public static <K, V> KafkaRecordDeserializationSchema<Tuple2<K, V>> keyValues(
            Serde<K> keySerde, Serde<V> valueSerde) {
        return new KeyValue<>(keySerde, valueSerde);
    }

    /**
     * The whole record as a {@link KafkaRecord}: typed key and value (each {@code null} when
     * absent; tombstones are kept), headers, topic, partition, offset and timestamp.
     *
     * <pre>{@code
     * .setDeserializer(KafkaDeserializers.records(Serdes.string(), JsonSerde.tree()))
     * }</pre>
     */
    public static <K, V> KafkaRecordDeserializationSchema<KafkaRecord<K, V>> records(
            Serde<K> keySerde, Serde<V> valueSerde) {
        return new Records<>(keySerde, valueSerde);
    }

    private static final byte[] EMPTY = new byte[0];

    private static final class Records<K, V>
            implements KafkaRecordDeserializationSchema<KafkaRecord<K, V>> {
        private static final long serialVersionUID = 1L;
        private final Serde<K> keySerde;
        private final Serde<V> valueSerde;

        Records(Serde<K> keySerde, Serde<V> valueSerde) {
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
        }

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<KafkaRecord<K, V>> out) {
            K key =
                    record.key() == null
                            ? null
                            : keySerde.deserialize(record.topic(), record.key());
            V value =
                    record.value() == null
                            ? null
                            : valueSerde.deserialize(record.topic(), record.value());
            out.collect(KafkaRecord.of(record, key, value));
        }

        @Override
        public TypeInformation<KafkaRecord<K, V>> getProducedType() {
            return KafkaRecordTypeInfo.of(keySerde.typeInformation(), valueSerde.typeInformation());
        }
    }

    private static final class KeyOnly<K> implements KafkaRecordDeserializationSchema<K> {
        private static final long serialVersionUID = 1L;
        private final Serde<K> serde;

        KeyOnly(Serde<K> serde) {
            this.serde = serde;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<K> out) {
            byte[] key = record.key();
            out.collect(serde.deserialize(record.topic(), key == null ? EMPTY : key));
        }

        @Override
        public TypeInformation<K> getProducedType() {
            return serde.typeInformation();
        }
    }

    private static final class ValueOnly<V> implements KafkaRecordDeserializationSchema<V> {
        private static final long serialVersionUID = 1L;
        private final Serde<V> serde;

        ValueOnly(Serde<V> serde) {
            this.serde = serde;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<V> out) {
            if (record.value() != null) {
                out.collect(serde.deserialize(record.topic(), record.value()));
            }
        }

        @Override
        public TypeInformation<V> getProducedType() {
            return serde.typeInformation();
        }
    }

    private static final class KeyValue<K, V>
            implements KafkaRecordDeserializationSchema<Tuple2<K, V>> {
        private static final long serialVersionUID = 1L;
        private final Serde<K> keySerde;
        private final Serde<V> valueSerde;

        KeyValue(Serde<K> keySerde, Serde<V> valueSerde) {
            this.keySerde = keySerde;
            this.valueSerde = valueSerde;
        }

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<Tuple2<K, V>> out) {
            if (record.value() == null) {
                throw new IllegalArgumentException(
                        "the record has no value (a tombstone) and key/value records need one;"
                                + " read with KafkaDeserializers.records(...) to receive"
                                + " tombstones");
            }
            byte[] key = record.key();
            K k = keySerde.deserialize(record.topic(), key == null ? EMPTY : key);
            V v = valueSerde.deserialize(record.topic(), record.value());
            if (k == null || v == null) {
                throw new IllegalArgumentException(
                        "the "
                                + (k == null ? "key" : "value")
                                + " serde read the record as null, which a Tuple2 field cannot"
                                + " hold");
            }
            out.collect(Tuple2.of(k, v));
        }

        @Override
        public TypeInformation<Tuple2<K, V>> getProducedType() {
            return new TupleTypeInfo<>(keySerde.typeInformation(), valueSerde.typeInformation());
        }
    }
}
