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
 * What a {@link KafkaIn} source emits per Kafka record: the key, the value, or both.
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
     * read as the key of zero bytes.
     */
    public static <K, V> KafkaRecordDeserializationSchema<Tuple2<K, V>> keyValues(
            Serde<K> keySerde, Serde<V> valueSerde) {
        return new KeyValue<>(keySerde, valueSerde);
    }

    private static final byte[] EMPTY = new byte[0];

    private static final class KeyOnly<K> implements KafkaRecordDeserializationSchema<K> {
        private static final long serialVersionUID = 1L;
        private final Serde<K> serde;

        KeyOnly(Serde<K> serde) {
            this.serde = serde;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<K> out) {
            byte[] key = record.key();
            out.collect(serde.deserialize(key == null ? EMPTY : key));
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
                out.collect(serde.deserialize(record.value()));
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
            byte[] key = record.key();
            out.collect(
                    Tuple2.of(
                            keySerde.deserialize(key == null ? EMPTY : key),
                            valueSerde.deserialize(record.value())));
        }

        @Override
        public TypeInformation<Tuple2<K, V>> getProducedType() {
            return new TupleTypeInfo<>(keySerde.typeInformation(), valueSerde.typeInformation());
        }
    }
}
