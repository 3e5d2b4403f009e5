package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.internal.KafkaRecordTypeInfoFactory;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInfo;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A Kafka record with a typed key and value: key, value, headers, topic, partition, offset and
 * timestamp. Read with {@link KafkaDeserializers#records}, written with {@link
 * KafkaOut#recordBuilder}, so a pass-through job keeps keys and headers.
 *
 * <pre>{@code
 * KafkaIn<KafkaRecord<String, JsonNode>> in = KafkaIn.<KafkaRecord<String, JsonNode>>builder()
 *         .setDeserializer(KafkaDeserializers.records(Serdes.string(), JsonSerde.tree()))
 *         ...
 *         .build();
 * DataStream<KafkaRecord<String, JsonNode>> tagged = in.createStream(env)
 *         .map(r -> r.withHeader("seen-by", "enricher"))
 *         .returns(KafkaRecordTypeInfo.of(Types.STRING, new JsonNodeTypeInfo()));
 * KafkaOut.recordBuilder(Serdes.string(), JsonSerde.tree())
 *         .setConnection(kafka)
 *         .setTopic("orders-tagged")
 *         .setTransactionalIdPrefix("enricher")
 *         .build()
 *         .writeTo(tagged);
 * }</pre>
 *
 * <p>Immutable: the {@code with*} methods return changed copies (header values are not copied, so
 * do not change the arrays you pass in or get). Flink serializes it with {@link
 * KafkaRecordTypeInfo} (no Kryo); {@code TypeInformation.of(new TypeHint<KafkaRecord<String,
 * Long>>() {})} finds it. A record that was not read from Kafka has topic {@code null}, partition,
 * offset and timestamp {@code -1}.
 *
 * @param <K> key type ({@code null} keys allowed)
 * @param <V> value type ({@code null} values, i.e. tombstones, allowed)
 */
@PublicEvolving
@TypeInfo(KafkaRecordTypeInfoFactory.class)
public final class KafkaRecord<K, V> {

    /** Partition, offset or timestamp that is not known. */
    public static final long UNKNOWN = -1;

    private static final Header[] NO_HEADERS = new Header[0];

    private final K key;
    private final V value;
    private final Header[] headers;
    private final String topic;
    private final int partition;
    private final long offset;
    private final long timestamp;

    /**
     * A record with every field given; {@code headers} may be {@code null} (none) and is copied.
     */
    public KafkaRecord(
            K key,
            V value,
            Iterable<Header> headers,
            String topic,
            int partition,
            long offset,
            long timestamp) {
        this(key, value, toArray(headers), topic, partition, offset, timestamp);
    }

    private KafkaRecord(
            K key,
            V value,
            Header[] headers,
            String topic,
            int partition,
            long offset,
            long timestamp) {
        this.key = key;
        this.value = value;
        this.headers = headers;
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
    }

    /** A new record to write: key, value, no headers, no source position. */
    public static <K, V> KafkaRecord<K, V> of(K key, V value) {
        return new KafkaRecord<>(key, value, NO_HEADERS, null, -1, UNKNOWN, UNKNOWN);
    }

    /** The typed view of a consumed record whose key and value are already deserialized. */
    public static <K, V> KafkaRecord<K, V> of(ConsumerRecord<?, ?> record, K key, V value) {
        return new KafkaRecord<>(
                key,
                value,
                toArray(record.headers()),
                record.topic(),
                record.partition(),
                record.offset(),
                record.timestamp());
    }

    private static Header[] toArray(Iterable<Header> headers) {
        if (headers == null) {
            return NO_HEADERS;
        }
        List<Header> copy = new ArrayList<>();
        for (Header h : headers) {
            copy.add(h instanceof RecordHeader ? h : new RecordHeader(h.key(), h.value()));
        }
        return copy.isEmpty() ? NO_HEADERS : copy.toArray(NO_HEADERS);
    }

    public K key() {
        return key;
    }

    public V value() {
        return value;
    }

    /** Source topic, or {@code null} when not read from Kafka. */
    public String topic() {
        return topic;
    }

    /** Source partition, or {@code -1}. */
    public int partition() {
        return partition;
    }

    /** Source offset, or {@code -1}. */
    public long offset() {
        return offset;
    }

    /** Record timestamp in epoch millis, or {@code -1}. */
    public long timestamp() {
        return timestamp;
    }

    /** The headers in order (duplicates kept), read-only. */
    public List<Header> headers() {
        return Collections.unmodifiableList(Arrays.asList(headers));
    }

    /** Value of the last header named {@code name}, or {@code null}. */
    public byte[] header(String name) {
        for (int i = headers.length - 1; i >= 0; i--) {
            if (headers[i].key().equals(name)) {
                return headers[i].value();
            }
        }
        return null;
    }

    /** Value of the last header named {@code name} as UTF-8 text, or {@code null}. */
    public String headerAsString(String name) {
        byte[] v = header(name);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** Adds the headers to {@code out} (the {@link HeaderWriter} of {@link KafkaOut}). */
    public void writeHeaders(Headers out) {
        for (Header h : headers) {
            out.add(h);
        }
    }

    /** The headers as a fresh, mutable Kafka {@link Headers}. */
    public Headers kafkaHeaders() {
        RecordHeaders out = new RecordHeaders();
        writeHeaders(out);
        return out;
    }

    /** This record with another key. */
    public <K2> KafkaRecord<K2, V> withKey(K2 newKey) {
        return new KafkaRecord<>(newKey, value, headers, topic, partition, offset, timestamp);
    }

    /** This record with another value (headers, key and position kept). */
    public <V2> KafkaRecord<K, V2> withValue(V2 newValue) {
        return new KafkaRecord<>(key, newValue, headers, topic, partition, offset, timestamp);
    }

    /** This record with one more header. */
    public KafkaRecord<K, V> withHeader(String name, byte[] headerValue) {
        Objects.requireNonNull(name, "header name");
        Header[] more = Arrays.copyOf(headers, headers.length + 1);
        more[headers.length] = new RecordHeader(name, headerValue);
        return new KafkaRecord<>(key, value, more, topic, partition, offset, timestamp);
    }

    /** This record with one more header, UTF-8 encoded. */
    public KafkaRecord<K, V> withHeader(String name, String headerValue) {
        return withHeader(
                name, headerValue == null ? null : headerValue.getBytes(StandardCharsets.UTF_8));
    }

    /** This record with another timestamp (epoch millis, {@code -1} for none). */
    public KafkaRecord<K, V> withTimestamp(long newTimestamp) {
        return new KafkaRecord<>(key, value, headers, topic, partition, offset, newTimestamp);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof KafkaRecord)) {
            return false;
        }
        KafkaRecord<?, ?> that = (KafkaRecord<?, ?>) o;
        return partition == that.partition
                && offset == that.offset
                && timestamp == that.timestamp
                && deepEquals(key, that.key)
                && deepEquals(value, that.value)
                && Objects.equals(topic, that.topic)
                && headersEqual(headers, that.headers);
    }

    private static boolean deepEquals(Object a, Object b) {
        return Objects.deepEquals(a, b);
    }

    private static boolean headersEqual(Header[] a, Header[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (!a[i].key().equals(b[i].key()) || !Arrays.equals(a[i].value(), b[i].value())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(topic, partition, offset, timestamp);
        h = 31 * h + Arrays.deepHashCode(new Object[] {key, value});
        for (Header header : headers) {
            h = 31 * h + header.key().hashCode();
            h = 31 * h + Arrays.hashCode(header.value());
        }
        return h;
    }

    /** Position and header names; key and value are left out (they may be large or sensitive). */
    @Override
    public String toString() {
        StringBuilder names = new StringBuilder();
        for (Header h : headers) {
            names.append(names.length() == 0 ? "" : ",").append(h.key());
        }
        return "KafkaRecord{"
                + topic
                + "-"
                + partition
                + "@"
                + offset
                + ", timestamp="
                + timestamp
                + ", headers=["
                + names
                + "]}";
    }
}
