package io.github.flinkkafkakit.state;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A per-key counter backed by the Kafka changelog (see {@link ChangelogFunction#counter}).
 *
 * <pre>{@code
 * ChangelogCounter views = counter("views");
 * views.add(1);
 * long total = views.get();
 * }</pre>
 */
@PublicEvolving
public interface ChangelogCounter {

    /**
     * Adds {@code delta} to the current key's count and returns the new count.
     *
     * @throws ArithmeticException if the count would overflow a {@code long} (the count is left as
     *     it was)
     */
    long add(long delta) throws Exception;

    /** The current key's count (0 when never added). */
    long get() throws Exception;

    /** Removes the current key's count (a tombstone in the changelog). */
    void clear();
}
