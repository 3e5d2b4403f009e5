package io.github.flinkkafkakit.examples;

import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * Count, errors and a latency histogram of one (service, window), mergeable and of fixed size:
 * log-scale buckets from 1 ms to about 10 minutes with ~5 % relative precision, so percentiles cost
 * the same for ten lines or ten million. A Flink POJO.
 */
public class LatencyStats {

    static final double GROWTH = 1.05;
    static final int BUCKETS = 280;

    public long count;
    public long errors;
    public int[] histogram = new int[BUCKETS];

    public LatencyStats() {}

    static int bucketOf(long latencyMs) {
        if (latencyMs <= 1) {
            return 0;
        }
        int b = (int) Math.ceil(Math.log(latencyMs) / Math.log(GROWTH));
        return Math.min(b, BUCKETS - 1);
    }

    static long upperBoundOf(int bucket) {
        return Math.round(Math.pow(GROWTH, bucket));
    }

    /** The latency at quantile {@code q} (0..1), as the upper bound of its bucket; -1 if none. */
    long percentile(double q) {
        long total = 0;
        for (int c : histogram) {
            total += c;
        }
        if (total == 0) {
            return -1;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += histogram[b];
            if (seen >= rank) {
                return upperBoundOf(b);
            }
        }
        return upperBoundOf(BUCKETS - 1);
    }

    /** Incremental aggregation for Flink windows. */
    static final class Aggregate
            implements AggregateFunction<LogEvent, LatencyStats, LatencyStats> {
        private static final long serialVersionUID = 1L;

        @Override
        public LatencyStats createAccumulator() {
            return new LatencyStats();
        }

        @Override
        public LatencyStats add(LogEvent event, LatencyStats acc) {
            acc.count++;
            if (event.isError()) {
                acc.errors++;
            }
            if (event.latencyMs >= 0) {
                acc.histogram[bucketOf(event.latencyMs)]++;
            }
            return acc;
        }

        @Override
        public LatencyStats getResult(LatencyStats acc) {
            return acc;
        }

        @Override
        public LatencyStats merge(LatencyStats a, LatencyStats b) {
            a.count += b.count;
            a.errors += b.errors;
            for (int i = 0; i < BUCKETS; i++) {
                a.histogram[i] += b.histogram[i];
            }
            return a;
        }
    }
}
