package io.github.flinkkafkakit.bench;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The enrich pair's function over the pair's generated input, fed in the order it is written with
 * each input's watermark trailing as the sources' do, gives exactly the join {@link EnrichInput}
 * expects: the bench's check and its function agree without Kafka or Flink's runtime in between.
 */
class EnrichJoinTest {

    @Test
    void shouldJoinEveryClickWithTheVersionInEffectAtItsTime() throws Exception {
        List<Object[]> written = new ArrayList<>();
        EnrichInput input =
                EnrichInput.generate(
                        "clicks",
                        "profiles",
                        20_000,
                        500,
                        EnrichInput.seed(20_000, 500),
                        (topic, key, value) -> written.add(new Object[] {topic, key, value}));
        EnrichInput again =
                EnrichInput.expected(
                        "clicks", "profiles", 20_000, 500, EnrichInput.seed(20_000, 500));
        assertThat(again.expectedVersion).isEqualTo(input.expectedVersion);

        List<Tuple3<String, Long, Long>> out = new ArrayList<>();
        try (KeyedTwoInputStreamOperatorTestHarness<
                        String,
                        Tuple3<String, Long, Long>,
                        Tuple3<String, Long, Long>,
                        Tuple3<String, Long, Long>>
                harness =
                        new KeyedTwoInputStreamOperatorTestHarness<>(
                                new KeyedCoProcessOperator<>(new EnrichJoin()),
                                t -> t.f0,
                                t -> t.f0,
                                Types.STRING)) {
            harness.open();
            long[] maxTs = {Long.MIN_VALUE, Long.MIN_VALUE};
            for (Object[] w : written) {
                String[] value = new String((byte[]) w[2], StandardCharsets.US_ASCII).split(",");
                long ts = Long.parseLong(value[0]);
                Tuple3<String, Long, Long> event =
                        Tuple3.of(
                                new String((byte[]) w[1], StandardCharsets.US_ASCII),
                                ts,
                                Long.parseLong(value[1]));
                boolean click = w[0].equals("clicks");
                int i = click ? 0 : 1;
                if (click) {
                    harness.processElement1(new StreamRecord<>(event, ts));
                } else {
                    harness.processElement2(new StreamRecord<>(event, ts));
                }
                if (ts > maxTs[i]) {
                    maxTs[i] = ts;
                    Watermark wm = new Watermark(ts - EnrichInput.MAX_OUT_OF_ORDERNESS_MILLIS - 1);
                    if (click) {
                        harness.processWatermark1(wm);
                    } else {
                        harness.processWatermark2(wm);
                    }
                }
            }
            harness.processWatermark1(Watermark.MAX_WATERMARK);
            harness.processWatermark2(Watermark.MAX_WATERMARK);
            out.addAll(harness.extractOutputValues());
        }

        assertThat(out).hasSize(input.clicks());
        long[] version = new long[input.clicks()];
        java.util.Arrays.fill(version, Long.MIN_VALUE);
        for (Tuple3<String, Long, Long> e : out) {
            int c = e.f1.intValue();
            assertThat(version[c]).as("click %d once", c).isEqualTo(Long.MIN_VALUE);
            version[c] = e.f2;
            assertThat(e.f0).isEqualTo(String.format("%010d", input.clickUser[c]));
        }
        for (int c = 0; c < input.clicks(); c++) {
            assertThat(version[c]).as("click %d", c).isEqualTo(input.expectedVersion[c]);
        }
        assertThat(input.clicksWithProfile()).isGreaterThan(input.clicks() / 2);
    }
}
