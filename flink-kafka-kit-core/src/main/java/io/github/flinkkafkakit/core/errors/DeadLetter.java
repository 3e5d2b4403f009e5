package io.github.flinkkafkakit.core.errors;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A record that failed, with where it came from and why: the original key, value and headers plus
 * the context written to the dead-letter topic as headers (named like Kafka Connect's {@code
 * __connect.errors.*} and Kafka Streams' {@code __streams.errors.*}, under the kit's prefix):
 *
 * <table>
 *   <caption>Dead-letter headers</caption>
 *   <tr><td>{@code __fkk.errors.exception}</td><td>exception class name</td></tr>
 *   <tr><td>{@code __fkk.errors.message}</td><td>exception message</td></tr>
 *   <tr><td>{@code __fkk.errors.stacktrace}</td><td>stack trace (at most 8 KiB)</td></tr>
 *   <tr><td>{@code __fkk.errors.stage}</td><td>{@code DESERIALIZE}, {@code PROCESS} or {@code
 *   PRODUCE}</td></tr>
 *   <tr><td>{@code __fkk.errors.topic}</td><td>source topic (or target topic at PRODUCE)</td></tr>
 *   <tr><td>{@code __fkk.errors.partition}</td><td>source partition, decimal</td></tr>
 *   <tr><td>{@code __fkk.errors.offset}</td><td>source offset, decimal</td></tr>
 *   <tr><td>{@code __fkk.errors.timestamp}</td><td>source record timestamp, epoch millis</td></tr>
 * </table>
 *
 * <p>Exception, message ({@code null} as text when the exception has none), stack trace and stage
 * are always present. A header whose value is unknown is left out, never written with a null value
 * or {@code -1}: a record that failed at {@code DESERIALIZE}, or a {@code KafkaRecord} at {@code
 * PROCESS}, has all four source headers; any other element that a {@code Guard} dead-letters has
 * none of topic, partition and offset, and a timestamp only when the element carried one; at {@code
 * PRODUCE} the topic is the target topic, without partition and offset.
 *
 * <p>A Flink POJO (public fields, no-arg constructor), so it travels without Kryo.
 */
@PublicEvolving
public class DeadLetter {

    public static final String HEADER_PREFIX = "__fkk.errors.";
    public static final String EXCEPTION = HEADER_PREFIX + "exception";
    public static final String MESSAGE = HEADER_PREFIX + "message";
    public static final String STACKTRACE = HEADER_PREFIX + "stacktrace";
    public static final String STAGE = HEADER_PREFIX + "stage";
    public static final String TOPIC = HEADER_PREFIX + "topic";
    public static final String PARTITION = HEADER_PREFIX + "partition";
    public static final String OFFSET = HEADER_PREFIX + "offset";
    public static final String TIMESTAMP = HEADER_PREFIX + "timestamp";

    static final int MAX_STACKTRACE_CHARS = 8 * 1024;

    public byte[] key;
    public byte[] value;

    /** The original headers, encoded (see {@link #originalHeaders()}). */
    public byte[] headers;

    public String topic;
    public int partition = -1;
    public long offset = -1;
    public long timestamp = -1;
    public String stage;
    public String exception;
    public String message;
    public String stacktrace;

    public DeadLetter() {}

    /** A dead letter for a consumed record that failed at {@code stage}. */
    public static DeadLetter of(ConsumerRecord<byte[], byte[]> record, Stage stage, Throwable e) {
        DeadLetter d = new DeadLetter();
        d.key = record.key();
        d.value = record.value();
        d.headers = encode(record.headers());
        d.topic = record.topic();
        d.partition = record.partition();
        d.offset = record.offset();
        d.timestamp = record.timestamp();
        d.setFailure(stage, e);
        return d;
    }

    /** Sets stage, exception class, message and (truncated) stack trace from {@code e}. */
    public void setFailure(Stage stage, Throwable e) {
        this.stage = stage.name();
        this.exception = e.getClass().getName();
        this.message = String.valueOf(e.getMessage());
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        String s = trace.toString();
        this.stacktrace =
                s.length() > MAX_STACKTRACE_CHARS ? s.substring(0, MAX_STACKTRACE_CHARS) : s;
    }

    /**
     * Shrinks this dead letter so that, written as a record, it stays within {@code maxBytes}: the
     * message to an eighth of it (a message can quote the whole value, e.g. {@code
     * NumberFormatException: For input string: "…"}), then the stack trace, the value and the key
     * are cut to fit (the other context headers stay). Needed when the failed record was near the
     * size limit.
     */
    public void fitInto(int maxBytes) {
        message = truncate(message, Math.max(256, maxBytes / 8));
        int fixed = 512 + (headers == null ? 0 : headers.length) + utf8Length(message);
        int room = Math.max(0, maxBytes - fixed);
        int keyLen = key == null ? 0 : key.length;
        int valueLen = value == null ? 0 : value.length;
        int traceLen = utf8Length(stacktrace);
        if (keyLen + valueLen + traceLen <= room) {
            return;
        }
        int traceRoom = Math.min(traceLen, Math.max(room / 4, 0));
        stacktrace = truncate(stacktrace, traceRoom);
        room -= traceRoom;
        int keyRoom = Math.min(keyLen, Math.max(room / 4, 0));
        if (key != null && key.length > keyRoom) {
            key = java.util.Arrays.copyOf(key, keyRoom);
        }
        room -= keyRoom;
        if (value != null && value.length > room) {
            value = java.util.Arrays.copyOf(value, room);
        }
    }

    private static int utf8Length(String s) {
        return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String truncate(String s, int maxBytes) {
        if (s == null || utf8Length(s) <= maxBytes) {
            return s;
        }
        // Stack traces are ASCII apart from messages; cutting chars at maxBytes/3 keeps any text
        // within maxBytes whatever its encoding.
        return s.substring(0, Math.min(s.length(), maxBytes / 3));
    }

    /**
     * The dead letter of an element a function cannot process (stage {@code PROCESS}): a {@link
     * io.github.flinkkafkakit.core.KafkaRecord} keeps its key, value, headers, source topic,
     * partition, offset and timestamp (its key and value become bytes: {@code byte[]} as is,
     * anything else as the UTF-8 of {@code String.valueOf}, which is the original text for strings
     * and JSON trees); any other element becomes the UTF-8 of {@code String.valueOf(element)} as
     * value, with no topic and partition and offset -1 (so it gets no topic, partition or offset
     * header).
     *
     * <pre>{@code
     * ctx.output(DEAD_LETTERS, DeadLetter.of(click, new IllegalArgumentException("late")));
     * }</pre>
     */
    public static DeadLetter of(Object element, Throwable reason) {
        DeadLetter d = new DeadLetter();
        if (element instanceof io.github.flinkkafkakit.core.KafkaRecord) {
            io.github.flinkkafkakit.core.KafkaRecord<?, ?> r =
                    (io.github.flinkkafkakit.core.KafkaRecord<?, ?>) element;
            d.key = bytes(r.key());
            d.value = bytes(r.value());
            d.setOriginalHeaders(r.kafkaHeaders());
            d.topic = r.topic();
            d.partition = r.partition();
            d.offset = r.offset();
            d.timestamp = r.timestamp();
        } else {
            d.value = bytes(element);
        }
        d.setFailure(Stage.PROCESS, reason);
        return d;
    }

    private static byte[] bytes(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof byte[]) {
            return (byte[]) o;
        }
        return String.valueOf(o).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Keeps {@code original} as the failed record's headers (copied, encoded). */
    public void setOriginalHeaders(Headers original) {
        this.headers = original == null ? null : encode(original);
    }

    /** The original headers of the failed record. */
    public Headers originalHeaders() {
        RecordHeaders result = new RecordHeaders();
        if (headers == null || headers.length == 0) {
            return result;
        }
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(headers))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                int len = in.readInt();
                byte[] value = null;
                if (len >= 0) {
                    value = new byte[len];
                    in.readFully(value);
                }
                result.add(name, value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return result;
    }

    /** Headers as bytes (null when there are none), as {@link #decodeHeaders} reads them. */
    public static byte[] encodeHeaders(Headers headers) {
        return headers == null ? null : encode(headers);
    }

    /** Headers from {@link #encodeHeaders}. */
    public static Headers decodeHeaders(byte[] encoded) {
        DeadLetter holder = new DeadLetter();
        holder.headers = encoded;
        return holder.originalHeaders();
    }

    private static byte[] encode(Headers headers) {
        Header[] all = headers.toArray();
        if (all.length == 0) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(all.length);
            for (Header h : all) {
                out.writeUTF(h.key());
                byte[] v = h.value();
                out.writeInt(v == null ? -1 : v.length);
                if (v != null) {
                    out.write(v);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The record written to {@code deadLetterTopic}: original key/value/headers + context. */
    public ProducerRecord<byte[], byte[]> toProducerRecord(String deadLetterTopic) {
        Headers out = new RecordHeaders();
        writeHeaders(out);
        return new ProducerRecord<>(deadLetterTopic, null, null, key, value, out);
    }

    /** Adds the original headers, then the {@code __fkk.errors.*} context headers. */
    public void writeHeaders(Headers out) {
        for (Header h : originalHeaders()) {
            out.add(h);
        }
        add(out, EXCEPTION, exception);
        add(out, MESSAGE, message);
        add(out, STACKTRACE, stacktrace);
        add(out, STAGE, stage);
        add(out, TOPIC, topic);
        if (partition >= 0) {
            add(out, PARTITION, Integer.toString(partition));
        }
        if (offset >= 0) {
            add(out, OFFSET, Long.toString(offset));
        }
        if (timestamp >= 0) {
            add(out, TIMESTAMP, Long.toString(timestamp));
        }
    }

    /** Adds a header only when its value is known: a null-valued header trips header dumps. */
    private static void add(Headers headers, String name, String value) {
        if (value != null) {
            headers.add(name, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Position and cause only (never the record's content, which may be sensitive). */
    @Override
    public String toString() {
        return "DeadLetter{"
                + topic
                + "-"
                + partition
                + "@"
                + offset
                + ", stage="
                + stage
                + ", "
                + exception
                + ": "
                + message
                + "}";
    }
}
