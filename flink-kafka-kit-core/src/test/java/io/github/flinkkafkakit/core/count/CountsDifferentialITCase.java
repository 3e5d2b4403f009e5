package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.testing.Seeds;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential test over random inputs: the kit's running count against the hand-written {@code
 * keyBy + ValueState} job, record for record per key; the coalesced output's last values against
 * the exact counts.
 */
class CountsDifferentialITCase {

    /** A fresh seed per test; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    private static List<String> keys(boolean skewed, long seed) {
        Random random = new Random(seed);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            int k =
                    skewed
                            ? (int) (Math.pow(random.nextDouble(), 4) * 2_000)
                            : random.nextInt(2_000);
            keys.add("key-" + k);
        }
        return keys;
    }

    private static StreamExecutionEnvironment env(
            int parallelism, CheckpointingMode mode, String backend) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, backend);
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(100, mode);
        return env;
    }

    /** Output values per key, in arrival order. */
    private static Map<String, List<Long>> perKey(DataStream<Tuple2<String, Long>> counts)
            throws Exception {
        Map<String, List<Long>> result = new HashMap<>();
        try (var it = counts.executeAndCollect()) {
            while (it.hasNext()) {
                Tuple2<String, Long> t = it.next();
                result.computeIfAbsent(t.f0, k -> new ArrayList<>()).add(t.f1);
            }
        }
        return result;
    }

    @ParameterizedTest(name = "parallelism {0}, skewed {1}, {2}, {3}")
    @CsvSource({
        "1, false, EXACTLY_ONCE, hashmap",
        "2, true, AT_LEAST_ONCE, rocksdb",
        "3, false, AT_LEAST_ONCE, hashmap",
        "4, true, EXACTLY_ONCE, rocksdb"
    })
    void shouldMatchTheHandWrittenValueStateJob(
            int parallelism, boolean skewed, CheckpointingMode mode, String backend)
            throws Exception {
        List<String> input = keys(skewed, seeds.seed());

        StreamExecutionEnvironment kitEnv = env(parallelism, mode, backend);
        Map<String, List<Long>> kit =
                perKey(Counts.perKey(kitEnv.fromData(input).rebalance()).build());

        StreamExecutionEnvironment handEnv = env(parallelism, mode, backend);
        Map<String, List<Long>> hand =
                perKey(
                        handEnv.fromData(input)
                                .rebalance()
                                .keyBy(k -> k, Types.STRING)
                                .process(new ValueStateCount())
                                .returns(Counts.KEY_COUNT));

        assertThat(kit).isEqualTo(hand);

        StreamExecutionEnvironment coalescedEnv = env(parallelism, mode, backend);
        Map<String, List<Long>> coalesced =
                perKey(
                        Counts.perKey(coalescedEnv.fromData(input).rebalance())
                                .setEmitPolicy(EmitPolicy.ON_CHECKPOINT)
                                .setPreAggregation(500)
                                .build());
        Map<String, Long> exact = new HashMap<>();
        input.forEach(k -> exact.merge(k, 1L, Long::sum));
        Map<String, Long> last = new HashMap<>();
        coalesced.forEach((k, v) -> last.put(k, v.get(v.size() - 1)));
        assertThat(last).isEqualTo(exact);
    }

    /** The hand-written baseline. */
    static final class ValueStateCount
            extends KeyedProcessFunction<String, String, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> count;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(String key, Context ctx, Collector<Tuple2<String, Long>> out)
                throws Exception {
            Long current = count.value();
            long next = current == null ? 1 : current + 1;
            count.update(next);
            out.collect(Tuple2.of(key, next));
        }
    }
}
