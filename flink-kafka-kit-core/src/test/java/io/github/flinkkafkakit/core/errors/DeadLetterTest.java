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
}
