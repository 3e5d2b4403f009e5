package io.github.flinkkafkakit.core.errors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterTest {

    private static final int LIMIT = 1_048_576;

    private static int size(ProducerRecord<byte[], byte[]> record) {
        int size = record.key() == null ? 0 : record.key().length;
        size += record.value() == null ? 0 : record.value().length;
        for (Header h : record.headers()) {
            size += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    /**
     * A value near the record limit whose exception message quotes it whole (as {@code
     * Long.parseLong} does) doubles in size as a dead letter; cut to fit, it keeps the start of the
     * value and of the message.
     */
    @Test
    void shouldFitAValueNearTheLimitWhoseMessageQuotesIt() {
        String digits = "7".repeat(1_046_000);
        ConsumerRecord<byte[], byte[]> record =
                new ConsumerRecord<>(
                        "in", 0, 5L, "k".getBytes(StandardCharsets.UTF_8), digits.getBytes());
        NumberFormatException failure = new NumberFormatException();
        try {
            Long.parseLong(digits);
        } catch (NumberFormatException e) {
            failure = e;
        }
        DeadLetter letter = DeadLetter.of(record, Stage.DESERIALIZE, failure);
        assertThat(size(letter.toProducerRecord("dlq"))).isGreaterThan(2 * 1_046_000);

        letter.fitInto(LIMIT);

        ProducerRecord<byte[], byte[]> fitted = letter.toProducerRecord("dlq");
        // Room left for the record framing (lengths, header count, batch header: under 100 bytes).
        assertThat(size(fitted)).isLessThan(LIMIT - 100);
        assertThat(new String(fitted.value(), StandardCharsets.US_ASCII)).matches("7{1000,}");
        assertThat(letter.message).startsWith("For input string: \"777");
        assertThat(letter.offset).isEqualTo(5L);
    }

    /**
     * A plain element (not a {@code KafkaRecord}) has no source topic, partition, offset or
     * timestamp: those headers are left out rather than written with a null value or {@code -1},
     * which a consumer printing headers would trip on.
     */
    @Test
    void shouldLeaveOutTheHeadersOfAnUnknownSource() {
        DeadLetter letter = DeadLetter.of("not a record", new IllegalStateException("bad"));

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dlq");

        assertThat(record.headers()).allSatisfy(h -> assertThat(h.value()).isNotNull());
        assertThat(names(record))
                .containsExactly(
                        DeadLetter.EXCEPTION,
                        DeadLetter.MESSAGE,
                        DeadLetter.STACKTRACE,
                        DeadLetter.STAGE);
    }

    /** Only what is known: a source topic without a position gives the topic header alone. */
    @Test
    void shouldWriteEachKnownSourceHeader() {
        DeadLetter letter = DeadLetter.of("x", new IllegalStateException());
        letter.topic = "in";
        letter.timestamp = 42L;

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dlq");

        assertThat(record.headers()).allSatisfy(h -> assertThat(h.value()).isNotNull());
        assertThat(names(record))
                .contains(DeadLetter.TOPIC, DeadLetter.TIMESTAMP)
                .doesNotContain(DeadLetter.PARTITION, DeadLetter.OFFSET);
        assertThat(record.headers().lastHeader(DeadLetter.TIMESTAMP).value())
                .isEqualTo("42".getBytes(StandardCharsets.UTF_8));
    }

    /** A consumed record has every header, its original headers first. */
    @Test
    void shouldWriteEveryHeaderForAConsumedRecord() {
        ConsumerRecord<byte[], byte[]> consumed =
                new ConsumerRecord<>("in", 0, 0L, null, "v".getBytes(StandardCharsets.UTF_8));
        consumed.headers().add("original", new byte[] {1});

        DeadLetter letter =
                DeadLetter.of(consumed, Stage.DESERIALIZE, new IllegalStateException("bad"));
        letter.timestamp = 7L; // the record above has none

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dlq");

        assertThat(names(record))
                .containsExactly(
                        "original",
                        DeadLetter.EXCEPTION,
                        DeadLetter.MESSAGE,
                        DeadLetter.STACKTRACE,
                        DeadLetter.STAGE,
                        DeadLetter.TOPIC,
                        DeadLetter.PARTITION,
                        DeadLetter.OFFSET,
                        DeadLetter.TIMESTAMP);
    }

    private static java.util.List<String> names(ProducerRecord<byte[], byte[]> record) {
        java.util.List<String> names = new java.util.ArrayList<>();
        record.headers().forEach(h -> names.add(h.key()));
        return names;
    }
}
