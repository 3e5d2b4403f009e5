package io.github.flinkkafkakit.bench;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Record keys as the bytes a Kafka record carries: 10-byte decimal ids, uniform or Zipf. */
final class Keys {

    private Keys() {}

    /** The key bytes of id {@code i}: 10 ASCII digits. */
    static byte[] key(int i) {
        return String.format("%010d", i).getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code n} records over {@code keys} distinct keys; Zipf exponent 1.0 when skewed. */
    static byte[][] records(int n, int keys, boolean zipf, long seed) {
        byte[][] pool = new byte[keys][];
        for (int i = 0; i < keys; i++) {
            pool[i] = key(i);
        }
        int[] ids = ids(n, keys, zipf, seed);
        byte[][] records = new byte[n][];
        for (int r = 0; r < n; r++) {
            records[r] = pool[ids[r]];
        }
        return records;
    }

    /**
     * The key ids of {@code n} records over {@code keys} distinct keys (id 0 the most frequent when
     * skewed); Zipf exponent 1.0 when skewed.
     */
    static int[] ids(int n, int keys, boolean zipf, long seed) {
        Random random = new Random(seed);
        double[] cdf = null;
        if (zipf) {
            cdf = new double[keys];
            double sum = 0;
            for (int i = 0; i < keys; i++) {
                sum += 1.0 / (i + 1);
                cdf[i] = sum;
            }
            for (int i = 0; i < keys; i++) {
                cdf[i] /= sum;
            }
        }
        int[] ids = new int[n];
        for (int r = 0; r < n; r++) {
            ids[r] = cdf == null ? random.nextInt(keys) : search(cdf, random.nextDouble());
        }
        return ids;
    }

    private static int search(double[] cdf, double u) {
        int lo = 0;
        int hi = cdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
