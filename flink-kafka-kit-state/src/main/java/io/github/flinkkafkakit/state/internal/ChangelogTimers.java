package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.util.function.BiConsumerWithException;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Timers are state: the event-time and processing-time timers a Kafka-backed operator's function
 * registers go to the changelog like its state, so a restart from Kafka alone has them again.
 *
 * <p>Each timer service the operator creates is wrapped: a registration, a deletion and a timer
 * that fires are recorded per key and, at the next barrier, written as one changelog record per
 * timer — key {@code [key group][<uid>/__fkk_timers/<service>][key][kind, time, namespace]}, value
 * empty for a registered timer, a tombstone for one deleted or fired. A restore from Kafka
 * registers the timers again (a processing-time timer already due fires at once, as after a Flink
 * restore). A timer registered and gone again between two checkpoints writes nothing where Flink's
 * timer service can tell it was new (the heap backend, {@link FlinkKeyedRuntime#timerCount}). The
 * operator's own TTL timers are not logged: a restored TTL value re-arms its own.
 */
@Internal
final class ChangelogTimers<K> {

    static final String STATE_PREFIX = ChangelogKeyedStateStore.RESERVED_PREFIX + "_timers/";

    private static final byte EVENT_TIME = 0;
    private static final byte PROCESSING_TIME = 1;

    private final StateRegistry<K> registry;
    private final ChangeContext<K> context;

    ChangelogTimers(StateRegistry<K> registry, ChangeContext<K> context) {
        this.registry = registry;
        this.context = context;
    }

    /** A logged timer service named {@code name} (Flink creates it on first request). */
    <N> InternalTimerService<N> service(
            String name, TypeSerializer<N> namespaceSerializer, Triggerable<K, N> triggerable) {
        String stateName = STATE_PREFIX + name;
        TimerLog<K, N> log =
                new TimerLog<>(
                        stateName,
                        registry.changelogName(stateName, false),
                        context,
                        namespaceSerializer);
        InternalTimerService<N> flink =
                context.runtime()
                        .flinkTimerService(
                                name, namespaceSerializer, new Firing<>(triggerable, log));
        log.flink = flink;
        FlinkKeyedRuntime.TimerCount count = context.runtime().timerCount(flink);
        try {
            TimerLog<K, N> registered = registry.register(log);
            if (registered != log) {
                return new LoggedService<>(flink, registered, count);
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot log the timers of service '" + name + "'", e);
        }
        return new LoggedService<>(flink, log, count);
    }

    /** A timer of one service: kind, time and namespace, as the changelog map key holds it. */
    private static byte[] entry(byte kind, long time, byte[] namespace) {
        byte[] entry = new byte[9 + namespace.length];
        entry[0] = kind;
        for (int i = 0; i < 8; i++) {
            entry[1 + i] = (byte) (time >>> (56 - 8 * i));
        }
        System.arraycopy(namespace, 0, entry, 9, namespace.length);
        return entry;
    }

    /** A byte array as a map key. */
    private static final class Entry {
        final byte[] bytes;
        private final int hash;

        Entry(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry && Arrays.equals(bytes, ((Entry) o).bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * A timer's changes since the last flush took them: registered (true) or gone (false) at the
     * latest, and whether it existed before the first (what the changelog holds for it then).
     */
    private static final class Change {
        boolean registered;
        final boolean existedBefore;

        Change(boolean registered, boolean existedBefore) {
            this.registered = registered;
            this.existedBefore = existedBefore;
        }
    }

    /** The changelog state of one timer service: which timers of which keys changed. */
    static final class TimerLog<K, N> extends ChangelogState {
        private final ChangeContext<K> context;
        private final TypeSerializer<N> namespaceSerializer;
        private final DataOutputSerializer buffer = new DataOutputSerializer(16);
        InternalTimerService<N> flink;

        /** Per key: timer → its changes. */
        private Map<Object, Map<Entry, Change>> dirty = new LinkedHashMap<>();

        private Map<Object, Map<Entry, Change>> flushing = new LinkedHashMap<>();

        TimerLog(
                String name,
                String changelogName,
                ChangeContext<K> context,
                TypeSerializer<N> namespaceSerializer) {
            super(name, changelogName);
            this.context = context;
            this.namespaceSerializer = namespaceSerializer;
        }

        /**
         * A timer of the current key was registered or is gone; {@code existedBefore}: whether it
         * existed before this change (true when not known).
         */
        void changed(byte kind, long time, N namespace, boolean registered, boolean existedBefore) {
            try {
                buffer.clear();
                namespaceSerializer.serialize(namespace, buffer);
                byte[] entry = entry(kind, time, buffer.getCopyOfBuffer());
                updates++;
                Change change =
                        dirty.computeIfAbsent(context.currentKeyCopy(), k -> new LinkedHashMap<>())
                                .computeIfAbsent(
                                        new Entry(entry),
                                        e -> new Change(registered, existedBefore));
                change.registered = registered;
            } catch (IOException e) {
                throw new IllegalStateException("Cannot log timer of state " + name, e);
            }
        }

        @Override
        boolean isDirty() {
            return !dirty.isEmpty();
        }

        @Override
        Set<Object> takeChangedKeys() {
            Map<Object, Map<Entry, Change>> taken = dirty;
            dirty = flushing;
            flushing = taken;
            return taken.keySet();
        }

        @Override
        @SuppressWarnings("unchecked")
        void flushCurrentKey(Object key) throws Exception {
            for (Map.Entry<Entry, Change> timer : flushing.get(key).entrySet()) {
                Change change = timer.getValue();
                if (!change.registered && !change.existedBefore) {
                    continue; // registered and gone again: the changelog has no record of it
                }
                context.write(
                        prefix,
                        (K) key,
                        timer.getKey().bytes,
                        change.registered ? new byte[0] : null);
                writes++;
            }
        }

        @Override
        void endFlush() {
            flushing.clear();
        }

        @Override
        Object newDecoding() {
            return new Decoding<>(namespaceSerializer.duplicate());
        }

        @Override
        @SuppressWarnings("unchecked")
        Object decode(Object decoding, byte[] recordKey, int mapKeyStart, byte[] value)
                throws Exception {
            byte kind = recordKey[mapKeyStart];
            long time = 0;
            for (int i = 0; i < 8; i++) {
                time = (time << 8) | (recordKey[mapKeyStart + 1 + i] & 0xff);
            }
            Decoding<N> d = (Decoding<N>) decoding;
            DataInputDeserializer input = d.input;
            input.setBuffer(recordKey, mapKeyStart + 9, recordKey.length - mapKeyStart - 9);
            N namespace = d.serializer.deserialize(input);
            return new Object[] {kind, time, namespace, value != null};
        }

        @Override
        @SuppressWarnings("unchecked")
        void restoreDecoded(Object decoded) {
            Object[] timer = (Object[]) decoded;
            byte kind = (Byte) timer[0];
            long time = (Long) timer[1];
            N namespace = (N) timer[2];
            boolean registered = (Boolean) timer[3];
            if (kind == EVENT_TIME) {
                if (registered) {
                    flink.registerEventTimeTimer(namespace, time);
                } else {
                    flink.deleteEventTimeTimer(namespace, time);
                }
            } else if (registered) {
                flink.registerProcessingTimeTimer(namespace, time);
            } else {
                flink.deleteProcessingTimeTimer(namespace, time);
            }
        }
    }

    /** Records a timer that fires as gone, then lets the operator handle it. */
    private static final class Firing<K, N> implements Triggerable<K, N> {
        private final Triggerable<K, N> operator;
        private final TimerLog<K, N> log;

        Firing(Triggerable<K, N> operator, TimerLog<K, N> log) {
            this.operator = operator;
            this.log = log;
        }

        @Override
        public void onEventTime(InternalTimer<K, N> timer) throws Exception {
            log.changed(EVENT_TIME, timer.getTimestamp(), timer.getNamespace(), false, true);
            operator.onEventTime(timer);
        }

        @Override
        public void onProcessingTime(InternalTimer<K, N> timer) throws Exception {
            log.changed(PROCESSING_TIME, timer.getTimestamp(), timer.getNamespace(), false, true);
            operator.onProcessingTime(timer);
        }
    }

    /** The timer service the operator's function uses: Flink's, with each change logged. */
    private static final class LoggedService<K, N> implements InternalTimerService<N> {
        private final InternalTimerService<N> flink;
        private final TimerLog<K, N> log;

        /** Flink's timer counts, or null: then every timer counts as existing before. */
        private final FlinkKeyedRuntime.TimerCount count;

        LoggedService(
                InternalTimerService<N> flink,
                TimerLog<K, N> log,
                FlinkKeyedRuntime.TimerCount count) {
            this.flink = flink;
            this.log = log;
            this.count = count;
        }

        private int count(boolean eventTime) {
            return count == null ? 0 : count.count(eventTime);
        }

        /** Registers a timer through {@code register} and logs it. */
        private void register(byte kind, long time, N namespace, Runnable register) {
            boolean eventTime = kind == EVENT_TIME;
            int before = count(eventTime);
            register.run();
            log.changed(kind, time, namespace, true, count == null || count(eventTime) == before);
        }

        /** Deletes a timer through {@code delete} and logs it. */
        private void delete(byte kind, long time, N namespace, Runnable delete) {
            boolean eventTime = kind == EVENT_TIME;
            int before = count(eventTime);
            delete.run();
            log.changed(kind, time, namespace, false, count == null || count(eventTime) != before);
        }

        @Override
        public long currentProcessingTime() {
            return flink.currentProcessingTime();
        }

        @Override
        public long currentWatermark() {
            return flink.currentWatermark();
        }

        @Override
        public void initializeWatermark(long watermark) {
            flink.initializeWatermark(watermark);
        }

        @Override
        public void registerProcessingTimeTimer(N namespace, long time) {
            register(
                    PROCESSING_TIME,
                    time,
                    namespace,
                    () -> flink.registerProcessingTimeTimer(namespace, time));
        }

        @Override
        public void deleteProcessingTimeTimer(N namespace, long time) {
            delete(
                    PROCESSING_TIME,
                    time,
                    namespace,
                    () -> flink.deleteProcessingTimeTimer(namespace, time));
        }

        @Override
        public void registerEventTimeTimer(N namespace, long time) {
            register(
                    EVENT_TIME,
                    time,
                    namespace,
                    () -> flink.registerEventTimeTimer(namespace, time));
        }

        @Override
        public void deleteEventTimeTimer(N namespace, long time) {
            delete(EVENT_TIME, time, namespace, () -> flink.deleteEventTimeTimer(namespace, time));
        }

        @Override
        public void forEachEventTimeTimer(BiConsumerWithException<N, Long, Exception> consumer)
                throws Exception {
            flink.forEachEventTimeTimer(consumer);
        }

        @Override
        public void forEachProcessingTimeTimer(BiConsumerWithException<N, Long, Exception> consumer)
                throws Exception {
            flink.forEachProcessingTimeTimer(consumer);
        }
    }
}
