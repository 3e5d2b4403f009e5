package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The value of one of the kit's bookkeeping records (owner, identity, commit marker): {@code
 * name=value} lines in UTF-8, sorted by name, readable with any Kafka console consumer. Values are
 * single-line (ids, numbers, topic names).
 */
@Internal
public final class Fields {

    private final Map<String, String> values;

    private Fields(Map<String, String> values) {
        this.values = values;
    }

    public static Fields empty() {
        return new Fields(new TreeMap<>());
    }

    public static Fields decode(byte[] bytes) {
        Map<String, String> values = new TreeMap<>();
        if (bytes != null) {
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    values.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        return new Fields(values);
    }

    public byte[] encode() {
        StringBuilder text = new StringBuilder();
        values.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    public Fields with(String name, Object value) {
        Map<String, String> copy = new TreeMap<>(values);
        String text = String.valueOf(value);
        if (name.indexOf('=') >= 0 || name.indexOf('\n') >= 0 || text.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("not a single-line field: " + name + "=" + text);
        }
        copy.put(name, text);
        return new Fields(copy);
    }

    public String get(String name) {
        return values.get(name);
    }

    public long getLong(String name, long absent) {
        String value = values.get(name);
        return value == null ? absent : Long.parseLong(value);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** The fields whose names start with {@code prefix}, by the rest of the name. */
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> found = new TreeMap<>();
        values.forEach(
                (name, value) -> {
                    if (name.startsWith(prefix)) {
                        found.put(name.substring(prefix.length()), value);
                    }
                });
        return Collections.unmodifiableMap(found);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fields && values.equals(((Fields) o).values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
