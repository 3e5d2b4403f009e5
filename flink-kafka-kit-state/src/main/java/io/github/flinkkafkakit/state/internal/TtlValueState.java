package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.ttl.TtlValue;

import java.io.IOException;

/**
 * The TTL layer of a value state ({@code StateTtlConfig}, processing time): a wrapper over a
 * Kafka-backed state of {@link TtlValue}s — the value with the time of its last update, which its
 * changelog record carries (8 bytes, then the value), so a restore from Kafka keeps each value's
 * age. An expired value reads as none at once and is cleared (a tombstone at the next checkpoint)
 * when its timer fires; each live key has one pending timer ({@link TtlTimers}), re-armed while the
 * value is younger than the TTL.
 *
 * @param <T> the value type
 */
@Internal
final class TtlValueState<T> implements ValueState<T>, LoggedValueState.RestoreHook {

    private final LoggedValueState<?, TtlValue<T>> inner;
    private final TypeSerializer<T> valueSerializer;
    private final TtlTimers<?> timers;
    private final long ttlMillis;

    /** Whether a read restarts the TTL too (else only writes do). */
    private final boolean touchOnRead;

    TtlValueState(
            LoggedValueState<?, TtlValue<T>> inner,
            TypeSerializer<T> valueSerializer,
            TtlTimers<?> timers,
            long ttlMillis,
            boolean touchOnRead) {
        this.inner = inner;
        this.valueSerializer = valueSerializer;
        this.timers = timers;
        this.ttlMillis = ttlMillis;
        this.touchOnRead = touchOnRead;
    }

    @Override
    public T value() throws IOException {
        TtlValue<T> stamped = inner.value();
        if (stamped == null) {
            return null;
        }
        long now = timers.now();
        if (now - stamped.getLastAccessTimestamp() >= ttlMillis) {
            return null;
        }
        if (touchOnRead) { // the new time goes to the changelog
            inner.update(new TtlValue<>(stamped.getUserValue(), now));
        }
        return stamped.getUserValue();
    }

    @Override
    public void update(T value) throws IOException {
        if (value == null) {
            clear();
            return;
        }
        boolean hadTimer = inner.value() != null;
        long now = timers.now();
        inner.update(new TtlValue<>(value, now));
        if (!hadTimer) {
            timers.register(now + ttlMillis);
        }
    }

    @Override
    public void clear() {
        inner.clear();
    }

    /**
     * The TTL timer of the current key fired: clears the value when it was not updated for the TTL,
     * else re-arms the timer for its new expiry.
     */
    void onTimer(long now) throws IOException {
        TtlValue<T> stamped = inner.value();
        if (stamped == null) {
            return;
        }
        long expiry = stamped.getLastAccessTimestamp() + ttlMillis;
        if (now >= expiry) {
            inner.clear();
        } else {
            timers.register(expiry);
        }
    }

    /**
     * A value restored from the changelog lives for the TTL from its last update, as before the
     * restart: expired already, it is cleared (its tombstone goes with the next checkpoint).
     */
    @Override
    public void restored() throws IOException {
        onTimer(timers.now());
    }

    /** A value kept without a TTL (in a savepoint) lives for the TTL from now. */
    @Override
    @SuppressWarnings("unchecked")
    public Object adopt(Object value) {
        return new TtlValue<>((T) value, timers.now());
    }

    @Override
    public TypeSerializer<?> adoptedSerializer() {
        return valueSerializer;
    }
}
