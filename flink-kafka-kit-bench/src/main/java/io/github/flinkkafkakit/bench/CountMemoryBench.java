package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.core.count.internal.RunningCountOperator;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Heap retained per key by the counting state, measured after full GCs: the kit's operator and
 * Flink's heap {@code ValueState<Long>} each count 1,000,000 distinct 10-byte keys in the same
 * harness as {@link CountBench}; the difference in used heap before and after is the state.
 *
 * <p>Run: {@code java -cp flink-kafka-kit-bench/target/benchmarks.jar
 * io.github.flinkkafkakit.bench.CountMemoryBench [keys]}.
 */
public final class CountMemoryBench {

    private CountMemoryBench() {}

    public static void main(String[] args) throws Exception {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        double kit =
                bytesPerKey(
                        new RunningCountOperator<String, String>(
                                EmitPolicy.ON_CHECKPOINT, 0, false),
                        keys);
        double flink =
                bytesPerKey(new KeyedProcessOperator<>(new CountBench.ValueStateCount()), keys);
        System.out.printf(
                Locale.ROOT,
                "keys=%d key_bytes=10%nKIT               %.1f bytes/key%nFLINK_VALUE_STATE %.1f"
                        + " bytes/key%n",
                keys,
                kit,
                flink);
    }

    private static double bytesPerKey(OneInputStreamOperator<String, ?> operator, int keys)
            throws Exception {
        try (KeyedOneInputStreamOperatorTestHarness<String, String, ?> harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        operator, k -> k, Types.STRING, 128, 1, 0)) {
            harness.open();
            long before = usedAfterGc();
            StreamRecord<String> record = new StreamRecord<>(null);
            for (int i = 0; i < keys; i++) {
                record.replace(new String(Keys.key(i), StandardCharsets.US_ASCII));
                operator.setKeyContextElement1(record);
                operator.processElement(record);
            }
            long after = usedAfterGc();
            if (operator instanceof RunningCountOperator) {
                System.out.printf(
                        Locale.ROOT,
                        "KIT table arrays: %.1f bytes/key%n",
                        ((RunningCountOperator<?, ?>) operator).table().retainedBytes()
                                / (double) keys);
            }
            return (after - before) / (double) keys;
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
