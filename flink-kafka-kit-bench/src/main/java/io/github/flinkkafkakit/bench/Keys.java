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
        Random random = new Random(seed);
        byte[][] pool = new byte[keys][];
        for (int i = 0; i < keys; i++) {
            pool[i] = key(i);
        }
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
        byte[][] records = new byte[n][];
        for (int r = 0; r < n; r++) {
            int k;
            if (cdf == null) {
                k = random.nextInt(keys);
            } else {
                double u = random.nextDouble();
                int lo = 0;
                int hi = keys - 1;
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (cdf[mid] < u) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                k = lo;
            }
            records[r] = pool[k];
        }
        return records;
    }
}
