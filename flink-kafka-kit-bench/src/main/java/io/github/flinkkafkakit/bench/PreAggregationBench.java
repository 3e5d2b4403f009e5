package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.count.internal.PreAggregateOperator;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.charset.StandardCharsets;

/**
 * The pre-aggregation step before the shuffle: one op = one record combined by the real {@link
 * PreAggregateOperator}, with a flush (as before a checkpoint barrier) after every invocation of
 * 65,536 records. The {@code in} and {@code out} counters give the records that reach the shuffle
 * per input record ({@code out / in}; lower is better, 1.0 means no reduction).
 *
 * <p>Run: {@code java -jar flink-kafka-kit-bench/target/benchmarks.jar PreAggregationBench}.
 */
@State(Scope.Thread)
public class PreAggregationBench extends BenchmarkBase {

    @Param({"1000", "10000"})
    public int maxKeys;

    @Param({"100000"})
    public int keys;

    @Param({"UNIFORM", "ZIPF"})
    public CountBench.Skew skew;

    private byte[][] records;
    private OneInputStreamOperatorTestHarness<String, Tuple2<String, Long>> harness;
    private PreAggregateOperator operator;
    private StreamRecord<String> record;

    /** Reported next to the throughput. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Shuffled {
        public long in;
        public long out;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        records = Keys.records(CountBench.RECORDS, keys, skew == CountBench.Skew.ZIPF, 7);
        operator = new PreAggregateOperator(maxKeys);
        harness = new OneInputStreamOperatorTestHarness<>(operator);
        harness.open();
        record = new StreamRecord<>(null);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        harness.close();
    }

    @Benchmark
    @OperationsPerInvocation(CountBench.RECORDS)
    public void preAggregate(Shuffled shuffled) throws Exception {
        for (byte[] r : records) {
            operator.processElement(record.replace(new String(r, StandardCharsets.UTF_8)));
        }
        operator.prepareSnapshotPreBarrier(0);
        shuffled.in += records.length;
        shuffled.out += harness.getOutput().size();
        harness.getOutput().clear();
    }
}
