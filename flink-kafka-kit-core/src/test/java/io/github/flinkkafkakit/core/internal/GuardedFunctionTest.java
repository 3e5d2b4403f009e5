package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.KafkaRecord;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import org.apache.kafka.common.header.internals.RecordHeader;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuardedFunctionTest {

    private static final OutputTag<DeadLetter> TAG =
            new OutputTag<>("dl", TypeInformation.of(DeadLetter.class));

    /** Emits the word twice, then throws for "bad". */
    static final class Twice implements FlatMapFunction<String, String> {
        @Override
        public void flatMap(String value, Collector<String> out) {
            out.collect(value);
            out.collect(value);
            if (value.startsWith("bad")) {
                throw new IllegalStateException("cannot handle " + value);
            }
        }
    }

    private static <T, R> OneInputStreamOperatorTestHarness<T, R> harness(
            FlatMapFunction<T, R> fn, ErrorPolicy policy) throws Exception {
        OutputTag<DeadLetter> tag = policy.action() == ErrorPolicy.Action.DEAD_LETTER ? TAG : null;
        return ProcessFunctionTestHarnesses.forProcessFunction(
                new GuardedFunction<>(fn, policy, tag, "step"));
    }

    @Test
    void shouldDropAllOutputOfAFailedElementUnderSkip() throws Exception {
        var h = harness(new Twice(), ErrorPolicy.skip());

        h.processElement("a", 1);
        h.processElement("bad", 2);
        h.processElement("b", 3);

        assertThat(h.extractOutputValues()).containsExactly("a", "a", "b", "b");
    }

    @Test
    void shouldSendADeadLetterWithTheElementTextAndTimestamp() throws Exception {
        var h = harness(new Twice(), ErrorPolicy.deadLetter("dlq"));

        h.processElement("ok", 5);
        h.processElement("bad-1", 42);

        assertThat(h.extractOutputValues()).containsExactly("ok", "ok");
        List<DeadLetter> letters =
                h.getSideOutput(TAG).stream()
                        .map(StreamRecord::getValue)
                        .collect(Collectors.toList());
        assertThat(letters).hasSize(1);
        DeadLetter letter = letters.get(0);
        assertThat(new String(letter.value, StandardCharsets.UTF_8)).isEqualTo("bad-1");
        assertThat(letter.key).isNull();
        assertThat(letter.stage).isEqualTo("PROCESS");
        assertThat(letter.timestamp).isEqualTo(42);
        assertThat(letter.exception).isEqualTo(IllegalStateException.class.getName());
        assertThat(letter.message).isEqualTo("cannot handle bad-1");
    }

    @Test
    void shouldKeepTheHeadersAndPositionOfAKafkaRecord() throws Exception {
        FlatMapFunction<KafkaRecord<String, String>, String> fails =
                (r, out) -> {
                    throw new IllegalArgumentException("nope");
                };
        var h = harness(fails, ErrorPolicy.deadLetter("dlq"));
        KafkaRecord<String, String> record =
                new KafkaRecord<>(
                        "k",
                        "{\"v\":1}",
                        List.of(new RecordHeader("trace", "t1".getBytes(StandardCharsets.UTF_8))),
                        "orders",
                        2,
                        17,
                        1000);

        h.processElement(record, 1000);

        DeadLetter letter = h.getSideOutput(TAG).poll().getValue();
        assertThat(new String(letter.key, StandardCharsets.UTF_8)).isEqualTo("k");
        assertThat(new String(letter.value, StandardCharsets.UTF_8)).isEqualTo("{\"v\":1}");
        assertThat(letter.topic).isEqualTo("orders");
        assertThat(letter.partition).isEqualTo(2);
        assertThat(letter.offset).isEqualTo(17);
        assertThat(letter.originalHeaders().lastHeader("trace").value())
                .isEqualTo("t1".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldFailWithoutRestartsNamingTheStageUnderFail() throws Exception {
        var h = harness(new Twice(), ErrorPolicy.fail());

        assertThatThrownBy(() -> h.processElement("bad", 1))
                .isInstanceOf(SuppressRestartsException.class)
                .hasStackTraceContaining("failed at stage PROCESS")
                .hasStackTraceContaining("in 'step'");
    }

    /** Records whether the guard opened it. */
    static final class Rich extends RichMapFunction<String, String> {
        private transient boolean opened;

        @Override
        public void open(OpenContext openContext) {
            opened = getRuntimeContext() != null;
        }

        @Override
        public String map(String value) {
            return opened ? value + "!" : value;
        }
    }

    @Test
    void shouldOpenRichFunctions() throws Exception {
        var h = harness(GuardedFunction.asFlatMap(new Rich()), ErrorPolicy.skip());

        h.processElement("x", 1);

        assertThat(h.extractOutputValues()).containsExactly("x!");
    }
}
