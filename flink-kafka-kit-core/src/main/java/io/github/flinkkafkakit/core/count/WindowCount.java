package io.github.flinkkafkakit.core.count;

import org.apache.flink.annotation.PublicEvolving;

import java.time.Instant;

/**
 * The count of one key in one event-time window: {@code [windowStart, windowEnd)} in epoch
 * milliseconds. A Flink POJO (no Kryo).
 */
@PublicEvolving
public class WindowCount {

    public String key;
    public long windowStart;
    public long windowEnd;
    public long count;

    public WindowCount() {}

    public WindowCount(String key, long windowStart, long windowEnd, long count) {
        this.key = key;
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.count = count;
    }

    @Override
    public String toString() {
        return key
                + " ["
                + Instant.ofEpochMilli(windowStart)
                + ", "
                + Instant.ofEpochMilli(windowEnd)
                + "): "
                + count;
    }
}
