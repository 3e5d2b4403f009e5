package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.state.internal.BoundedReads;
import io.github.flinkkafkakit.state.internal.ChangelogKeys;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Reads one value state of a changelog topic for other consumers: as a table (the current value of
 * every key, {@code read_committed}) or as a stream of updates for a {@code KafkaIn}.
 *
 * <pre>{@code
 * ChangelogReader<String, Long> totals =
 *         ChangelogReader.of(kafka, "totals-state", "total", Types.STRING, Types.LONG);
 * Map<String, Long> now = totals.readTable();
 *
 * KafkaIn.<Tuple2<String, Long>>builder()
 *         .setTopics("totals-state")
 *         .setDeserializer(totals.updates())     // (key, new value); deletes are skipped
 * }</pre>
 */
@PublicEvolving
public final class ChangelogReader<K, V> implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The changelog name suffix of a state with a TTL. */
    private static final String TTL_SUFFIX = "@ttl";

    private final KafkaConnection connection;
    private final String topic;
    private final String operatorUid;
    private final String stateName;
    private final TypeInformation<K> keyType;
    private final TypeInformation<V> valueType;

    private ChangelogReader(
            KafkaConnection connection,
            String topic,
            String operatorUid,
            String stateName,
            TypeInformation<K> keyType,
            TypeInformation<V> valueType) {
        this.connection = connection;
        this.topic = topic;
        this.operatorUid = operatorUid;
        this.stateName = stateName;
        this.keyType = keyType;
        this.valueType = valueType;
    }

    /**
     * The value state {@code stateName} of whichever operator of the job declares it (when two
     * operators have a state of that name, use {@link #of(KafkaConnection, String, String, String,
     * TypeInformation, TypeInformation)}).
     *
     * @param stateName the name the function gave the state ({@code valueState("total", ...)})
     * @param keyType the key type of the keyed stream that wrote it
     * @param valueType the state's value type
     */
    public static <K, V> ChangelogReader<K, V> of(
            KafkaConnection connection,
            String topic,
            String stateName,
            TypeInformation<K> keyType,
            TypeInformation<V> valueType) {
        return new ChangelogReader<>(connection, topic, null, stateName, keyType, valueType);
    }

    /** The value state {@code stateName} of the operator with uid {@code operatorUid}. */
    public static <K, V> ChangelogReader<K, V> of(
            KafkaConnection connection,
            String topic,
            String operatorUid,
            String stateName,
            TypeInformation<K> keyType,
            TypeInformation<V> valueType) {
        return new ChangelogReader<>(connection, topic, operatorUid, stateName, keyType, valueType);
    }

    /** The current value of every key: all committed changes up to now, deletes applied. */
    public Map<K, V> readTable() {
        Decoder<K, V> decoder = new Decoder<>(operatorUid, stateName, keyType, valueType);
        Properties props = BoundedReads.consumerProperties(connection);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "20000");
        Map<K, V> table = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))
                            || !decoder.isOurs(r.key())) {
                        continue;
                    }
                    K key = decoder.key(r.key());
                    if (r.value() == null) {
                        table.remove(key);
                    } else {
                        table.put(key, decoder.value(r.value()));
                    }
                }
            }
        }
        return table;
    }

    /** A {@code KafkaIn} format emitting {@code (key, new value)} per update (deletes skipped). */
    public KafkaRecordDeserializationSchema<Tuple2<K, V>> updates() {
        return new Updates<>(operatorUid, stateName, keyType, valueType);
    }

    private static final class Updates<K, V>
            implements KafkaRecordDeserializationSchema<Tuple2<K, V>> {
        private static final long serialVersionUID = 1L;
        private final String operatorUid;
        private final String stateName;
        private final TypeInformation<K> keyType;
        private final TypeInformation<V> valueType;
        private transient Decoder<K, V> decoder;

        Updates(
                String operatorUid,
                String stateName,
                TypeInformation<K> keyType,
                TypeInformation<V> valueType) {
            this.operatorUid = operatorUid;
            this.stateName = stateName;
            this.keyType = keyType;
            this.valueType = valueType;
        }

        @Override
        public void open(DeserializationSchema.InitializationContext context) {
            decoder = new Decoder<>(operatorUid, stateName, keyType, valueType);
        }

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<Tuple2<K, V>> out) {
            if (decoder == null) {
                decoder = new Decoder<>(operatorUid, stateName, keyType, valueType);
            }
            if (record.value() != null && decoder.isOurs(record.key())) {
                out.collect(Tuple2.of(decoder.key(record.key()), decoder.value(record.value())));
            }
        }

        @Override
        public TypeInformation<Tuple2<K, V>> getProducedType() {
            return new TupleTypeInfo<>(keyType, valueType);
        }
    }

    /**
     * Decodes record keys and values of one state: records of {@code <uid>/<stateName>} (of any
     * operator when {@code operatorUid} is null), also with a TTL (whose values start with the
     * 8-byte time of their last update).
     */
    private static final class Decoder<K, V> {
        private final String operatorUid;
        private final String stateName;
        private final TypeSerializer<K> keySerializer;
        private final TypeSerializer<V> valueSerializer;
        private final DataInputDeserializer input = new DataInputDeserializer();

        /** Whether the last record {@link #isOurs} accepted belongs to a state with a TTL. */
        private boolean stamped;

        Decoder(
                String operatorUid,
                String stateName,
                TypeInformation<K> keyType,
                TypeInformation<V> valueType) {
            this.operatorUid = operatorUid;
            this.stateName = stateName;
            this.keySerializer = keyType.createSerializer(new SerializerConfigImpl());
            this.valueSerializer = valueType.createSerializer(new SerializerConfigImpl());
        }

        boolean isOurs(byte[] recordKey) {
            if (recordKey == null
                    || recordKey.length < 3
                    || ChangelogKeys.isCommitMarker(recordKey)) {
                return false;
            }
            String name = ChangelogKeys.stateName(recordKey);
            stamped = name.endsWith(TTL_SUFFIX);
            if (stamped) {
                name = name.substring(0, name.length() - TTL_SUFFIX.length());
            }
            int slash = name.lastIndexOf('/');
            String state = name.substring(slash + 1);
            return state.equals(stateName)
                    && (operatorUid == null
                            ? slash >= 0 || !stamped
                            : name.substring(0, Math.max(slash, 0)).equals(operatorUid));
        }

        K key(byte[] recordKey) {
            int start = ChangelogKeys.userKeyStart(recordKey);
            input.setBuffer(recordKey, start, ChangelogKeys.userKeyEnd(recordKey) - start);
            try {
                return keySerializer.deserialize(input);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        V value(byte[] value) {
            int from = stamped ? Long.BYTES : 0;
            input.setBuffer(value, from, value.length - from);
            try {
                return valueSerializer.deserialize(input);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
