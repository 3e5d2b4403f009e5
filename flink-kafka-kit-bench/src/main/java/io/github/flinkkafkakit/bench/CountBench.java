package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.core.count.internal.RunningCountOperator;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;

/**
 * The per-record counting path: one op = one record counted. Keys arrive as the bytes a Kafka
 * record carries and are decoded to a {@code String} in every implementation, so decoding costs the
 * same everywhere.
 *
 * <ul>
 *   <li>{@code KIT}: the kit's {@link RunningCountOperator} — its real {@code processElement} (and
 *       {@code setKeyContextElement1}, which it makes a no-op), opened in Flink's keyed operator
 *       test harness, coalesced emission (emits at checkpoints, not per record);
 *   <li>{@code FLINK_VALUE_STATE}: what a {@code keyBy().map(count)} job does — {@code
 *       setCurrentKey} per record and a {@code ValueState<Long>} read + update on the heap
 *       (HashMap) state backend, in the same harness;
 *   <li>{@code JDK_HASHMAP}: {@code HashMap.merge(key, 1L, Long::sum)}.
 * </ul>
 *
 * <p>Run: {@code java -jar flink-kafka-kit-bench/target/benchmarks.jar CountBench -p keys=100000 -p
 * skew=ZIPF}.
 */
@State(Scope.Thread)
public class CountBench extends BenchmarkBase {

    /** Records per invocation (one op = one record). */
    static final int RECORDS = 1 << 16;

    /** Implementations compared. */
    public enum Impl {
        KIT,
        FLINK_VALUE_STATE,
        JDK_HASHMAP
    }

    /** Key distribution. */
    public enum Skew {
        UNIFORM,
        ZIPF
    }

    @Param({"KIT", "FLINK_VALUE_STATE", "JDK_HASHMAP"})
    public Impl impl;

    @Param({"1000", "100000", "1000000"})
    public int keys;

    @Param({"UNIFORM", "ZIPF"})
    public Skew skew;

    private byte[][] records;
    private KeyedOneInputStreamOperatorTestHarness<String, String, ?> harness;
    private OneInputStreamOperator<String, ?> operator;
    private StreamRecord<String> record;
    private HashMap<String, Long> map;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        records = Keys.records(RECORDS, keys, skew == Skew.ZIPF, 42);
        record = new StreamRecord<>(null);
        switch (impl) {
            case KIT:
                operator =
                        new RunningCountOperator<String, String>(
                                EmitPolicy.ON_CHECKPOINT, 0, false);
                break;
            case FLINK_VALUE_STATE:
                operator = new KeyedProcessOperator<>(new ValueStateCount());
                break;
            default:
                map = new HashMap<>();
                return;
        }
        harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        operator, k -> k, Types.STRING, 128, 1, 0);
        harness.open();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public void count() throws Exception {
        byte[][] rs = records;
        if (map != null) {
            HashMap<String, Long> m = map;
            for (byte[] r : rs) {
                m.merge(new String(r, StandardCharsets.UTF_8), 1L, Long::sum);
            }
            return;
        }
        OneInputStreamOperator<String, ?> op = operator;
        StreamRecord<String> rec = record;
        for (byte[] r : rs) {
            rec.replace(new String(r, StandardCharsets.UTF_8));
            op.setKeyContextElement1(rec);
            op.processElement(rec);
        }
    }

    /** {@code keyBy().map(count)}: read, increment, update a {@code ValueState<Long>}. */
    static final class ValueStateCount extends KeyedProcessFunction<String, String, Long> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> count;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(String key, Context ctx, Collector<Long> out) throws Exception {
            Long current = count.value();
            count.update(current == null ? 1L : current + 1);
        }
    }
}
