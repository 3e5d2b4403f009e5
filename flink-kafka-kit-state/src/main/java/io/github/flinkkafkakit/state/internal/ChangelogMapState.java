package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@link MapState} whose changes go to the changelog at each checkpoint: one record per (key, map
 * key), coalesced, tombstones for removed entries. An entry added and removed again between two
 * flushes writes nothing: the changelog has no entry for it before, nor after.
 */
@Internal
final class ChangelogMapState<K, UK, UV> extends ChangelogState implements MapState<UK, UV> {

    private final MapState<UK, UV> inner;
    private final TypeSerializer<UK> mapKeySerializer;
    private final TypeSerializer<UV> valueSerializer;
    private final ChangeContext<K> context;

    /**
     * Changed map keys per key (a clear() marks every map key present), each with whether it had an
     * entry before its first change since the last flush took the changes: what the changelog holds
     * for it then (every change is tracked, and the flush that took its earlier changes wrote them
     * before any later change of the key).
     */
    private Map<K, Map<UK, Boolean>> dirty = new LinkedHashMap<>();

    private Map<K, Map<UK, Boolean>> flushing = new LinkedHashMap<>();

    ChangelogMapState(
            String name,
            String changelogName,
            MapState<UK, UV> inner,
            TypeSerializer<UK> mapKeySerializer,
            TypeSerializer<UV> valueSerializer,
            ChangeContext<K> context) {
        super(name, changelogName);
        this.inner = inner;
        this.mapKeySerializer = mapKeySerializer;
        this.valueSerializer = valueSerializer;
        this.context = context;
    }

    /** {@code mapKey} of the current key, which has an entry, is about to change. */
    private void changingPresent(UK mapKey) {
        changing(mapKey, true);
    }

    /**
     * {@code mapKey} of the current key is about to change; {@code present}: whether it has an
     * entry now, {@code null} = look it up (only on its first change since the last flush).
     */
    private void changing(UK mapKey, Boolean present) {
        updates++;
        Map<UK, Boolean> changes =
                dirty.computeIfAbsent(context.currentKeyCopy(), k -> new LinkedHashMap<>());
        if (!changes.containsKey(mapKey)) {
            boolean had;
            try {
                had = present != null ? present : inner.contains(mapKey);
            } catch (Exception e) {
                throw new IllegalStateException(
                        "Cannot read map state '" + name + "' to log a change", e);
            }
            changes.put(mapKeySerializer.copy(mapKey), had);
        }
    }

    @Override
    public UV get(UK key) throws Exception {
        return inner.get(key);
    }

    @Override
    public void put(UK key, UV value) throws Exception {
        changing(key, null);
        inner.put(key, value);
    }

    @Override
    public void putAll(Map<UK, UV> map) throws Exception {
        for (Map.Entry<UK, UV> e : map.entrySet()) {
            put(e.getKey(), e.getValue());
        }
    }

    @Override
    public void remove(UK key) throws Exception {
        changing(key, null);
        inner.remove(key);
    }

    @Override
    public boolean contains(UK key) throws Exception {
        return inner.contains(key);
    }

    // What a function changes through an iterator (remove(), Entry.setValue) is a change too.

    @Override
    public Iterable<Map.Entry<UK, UV>> entries() throws Exception {
        Iterable<Map.Entry<UK, UV>> entries = inner.entries();
        return () -> tracked(entries.iterator(), e -> e.getKey(), true);
    }

    @Override
    public Iterable<UK> keys() throws Exception {
        Iterable<Map.Entry<UK, UV>> entries = inner.entries();
        return () -> tracked(entries.iterator(), e -> e.getKey(), false);
    }

    @Override
    public Iterable<UV> values() throws Exception {
        Iterable<Map.Entry<UK, UV>> entries = inner.entries();
        return () -> tracked(entries.iterator(), e -> e.getValue(), false);
    }

    @Override
    public Iterator<Map.Entry<UK, UV>> iterator() throws Exception {
        return tracked(inner.iterator(), e -> e.getKey(), true);
    }

    /**
     * The entries of {@code entries} as {@code view} shows them, marking an entry changed when the
     * function removes it through the iterator or (for {@code entryView}s) sets its value.
     */
    @SuppressWarnings("unchecked")
    private <V> Iterator<V> tracked(
            Iterator<Map.Entry<UK, UV>> entries,
            java.util.function.Function<Map.Entry<UK, UV>, ?> view,
            boolean entryView) {
        return new Iterator<>() {
            private Map.Entry<UK, UV> last;

            @Override
            public boolean hasNext() {
                return entries.hasNext();
            }

            @Override
            public V next() {
                last = entries.next();
                if (!entryView) {
                    return (V) view.apply(last);
                }
                Map.Entry<UK, UV> entry = last;
                return (V)
                        new Map.Entry<UK, UV>() {
                            @Override
                            public UK getKey() {
                                return entry.getKey();
                            }

                            @Override
                            public UV getValue() {
                                return entry.getValue();
                            }

                            @Override
                            public UV setValue(UV value) {
                                changingPresent(entry.getKey());
                                return entry.setValue(value);
                            }
                        };
            }

            @Override
            public void remove() {
                changingPresent(last.getKey());
                entries.remove();
            }
        };
    }

    @Override
    public boolean isEmpty() throws Exception {
        return inner.isEmpty();
    }

    @Override
    public void clear() {
        try {
            for (UK mapKey : inner.keys()) {
                changingPresent(mapKey);
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot list map state '" + name + "' to clear it", e);
        }
        inner.clear();
    }

    @Override
    boolean isDirty() {
        return !dirty.isEmpty();
    }

    @Override
    @SuppressWarnings("unchecked")
    Set<Object> takeChangedKeys() {
        Map<K, Map<UK, Boolean>> taken = dirty;
        dirty = flushing;
        flushing = taken;
        return (Set<Object>) taken.keySet();
    }

    @Override
    @SuppressWarnings("unchecked")
    void flushCurrentKey(Object key) throws Exception {
        for (Map.Entry<UK, Boolean> change : flushing.get(key).entrySet()) {
            UK mapKey = change.getKey();
            UV value = inner.get(mapKey);
            if (value == null && !change.getValue()) {
                continue; // added and removed again: the changelog has no entry for it
            }
            context.write(
                    prefix,
                    (K) key,
                    context.serialize(mapKeySerializer, mapKey),
                    value == null ? null : context.serialize(valueSerializer, value));
            writes++;
        }
    }

    @Override
    void endFlush() {
        flushing.clear();
    }

    @Override
    Object newDecoding() {
        return new Decoding<?>[] {
            new Decoding<>(mapKeySerializer.duplicate()),
            new Decoding<>(valueSerializer.duplicate())
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    Object decode(Object decoding, byte[] recordKey, int mapKeyStart, byte[] value)
            throws Exception {
        Decoding<UK> k = (Decoding<UK>) ((Decoding<?>[]) decoding)[0];
        UK mapKey = deserialize(k.serializer, recordKey, mapKeyStart, k.input);
        Decoding<UV> v = (Decoding<UV>) ((Decoding<?>[]) decoding)[1];
        UV mapValue = value == null ? null : deserialize(v.serializer, value, 0, v.input);
        return new Object[] {mapKey, mapValue};
    }

    @Override
    @SuppressWarnings("unchecked")
    void restoreDecoded(Object decoded) throws Exception {
        Object[] entry = (Object[]) decoded;
        if (entry[1] == null) {
            inner.remove((UK) entry[0]);
        } else {
            inner.put((UK) entry[0], (UV) entry[1]);
        }
    }
}
