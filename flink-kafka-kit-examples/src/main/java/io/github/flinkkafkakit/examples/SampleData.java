package io.github.flinkkafkakit.examples;

import java.util.Random;

/** Reproducible skewed (Zipf) key generator for the examples' embedded mode. */
final class SampleData {

    private final double[] cumulative;
    private final Random random;

    /**
     * @param keys number of distinct keys
     * @param exponent Zipf exponent (1.0 ≈ web traffic: a few keys are very hot)
     * @param seed random seed (same seed ⇒ same data)
     */
    SampleData(int keys, double exponent, long seed) {
        cumulative = new double[keys];
        double sum = 0;
        for (int i = 0; i < keys; i++) {
            sum += 1.0 / Math.pow(i + 1, exponent);
            cumulative[i] = sum;
        }
        for (int i = 0; i < keys; i++) {
            cumulative[i] /= sum;
        }
        random = new Random(seed);
    }

    /** The rank (0 = most frequent) of the next key. */
    int nextRank() {
        double u = random.nextDouble();
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    Random random() {
        return random;
    }
}
