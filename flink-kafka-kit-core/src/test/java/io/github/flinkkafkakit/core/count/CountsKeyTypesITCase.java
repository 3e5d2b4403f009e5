package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.testing.Seeds;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Counts#perKey} over keys that are not Strings (counted by their serialized bytes): every
 * count of every key appears once and in order (1, 2, … n per key, the expectation computed here),
 * coalesced output ends with the exact counts, and key types whose bytes are not deterministic are
 * refused when the job is built.
 */
class CountsKeyTypesITCase {

    @RegisterExtension final Seeds seeds = new Seeds();

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    private static <K> Map<K, List<Long>> perKey(DataStream<Tuple2<K, Long>> counts)
            throws Exception {
        Map<K, List<Long>> result = new HashMap<>();
        try (var it = counts.executeAndCollect()) {
            while (it.hasNext()) {
                Tuple2<K, Long> t = it.next();
                result.computeIfAbsent(t.f0, k -> new ArrayList<>()).add(t.f1);
            }
        }
        return result;
    }

    private List<Long> longKeys() {
        Random random = new Random(seeds.seed());
        List<Long> keys = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            // negative, small and long-sized keys: inline and arena slots of the table
            long k = random.nextInt(1_500) - 500;
            keys.add(k % 7 == 0 ? k * 1_000_000_007L : k);
        }
        return keys;
    }

    @ParameterizedTest
    @EnumSource(EmitPolicy.class)
    void shouldCountLongKeysExactly(EmitPolicy policy) throws Exception {
        List<Long> input = longKeys();
        Map<Long, Long> exact = new HashMap<>();
        input.forEach(k -> exact.merge(k, 1L, Long::sum));

        StreamExecutionEnvironment env = env();
        Map<Long, List<Long>> out =
                perKey(
                        Counts.perKey(env.fromData(input).rebalance())
                                .setEmitPolicy(policy)
                                .build());

        assertThat(out.keySet()).isEqualTo(exact.keySet());
        out.forEach(
                (key, counts) -> {
                    if (policy == EmitPolicy.EVERY_RECORD) {
                        List<Long> expected = new ArrayList<>();
                        for (long c = 1; c <= exact.get(key); c++) {
                            expected.add(c);
                        }
                        assertThat(counts).as("counts of key %d", key).isEqualTo(expected);
                    } else {
                        assertThat(counts).as("counts of key %d", key).isSorted();
                        assertThat(counts).doesNotHaveDuplicates();
                        assertThat(counts.get(counts.size() - 1)).isEqualTo(exact.get(key));
                    }
                });
    }

    @Test
    void shouldCountTupleKeysExactly() throws Exception {
        Random random = new Random(seeds.seed());
        List<Tuple2<String, Integer>> input = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            input.add(Tuple2.of("region-" + random.nextInt(5), random.nextInt(200)));
        }
        Map<Tuple2<String, Integer>, Long> exact = new HashMap<>();
        input.forEach(k -> exact.merge(k, 1L, Long::sum));

        StreamExecutionEnvironment env = env();
        DataStream<Tuple2<String, Integer>> keys =
                env.fromData(input).returns(Types.TUPLE(Types.STRING, Types.INT)).rebalance();
        Map<Tuple2<String, Integer>, List<Long>> out =
                perKey(Counts.perKey(keys).setEmitPolicy(EmitPolicy.ON_CHECKPOINT).build());

        Map<Tuple2<String, Integer>, Long> last = new HashMap<>();
        out.forEach((k, v) -> last.put(k, v.get(v.size() - 1)));
        assertThat(last).isEqualTo(exact);
    }

    @Test
    void shouldRefuseKeysWithoutDeterministicBytesWhenBuilt() {
        StreamExecutionEnvironment env = env();
        DataStream<Double> keys = env.fromData(1.0, -0.0, 0.0);
        assertThatThrownBy(() -> Counts.perKey(keys).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DoubleSerializer")
                .hasMessageContaining("count by a String, an integral number");
    }

    @Test
    void shouldRefusePreAggregationOfOtherKeysWhenBuilt() {
        StreamExecutionEnvironment env = env();
        DataStream<Long> keys = env.fromData(1L, 2L);
        assertThatThrownBy(
                        () ->
                                Counts.perKey(keys)
                                        .setEmitPolicy(EmitPolicy.ON_CHECKPOINT)
                                        .setPreAggregation(100)
                                        .build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("pre-aggregation counts String keys only");
    }
}
