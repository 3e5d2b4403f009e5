package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;

/**
 * Layout of changelog record keys and the key-group → partition mapping.
 *
 * <p>Record key: {@code [name length: 1 byte][state name, UTF-8][user key length: varint][user key
 * bytes][map key bytes (map state only)]}, user and map keys serialized with the state's own
 * serializers. Header {@code fkk.kg} (4 bytes, big-endian) carries the key group, so a restoring
 * subtask can skip records of key groups it does not own without deserializing them.
 *
 * <p>Partition of key group {@code kg}: {@code kg * partitions / maxParallelism} — contiguous
 * key-group ranges map to contiguous partitions, so a subtask reads only the few partitions that
 * can hold its key groups, whatever parallelism wrote them.
 */
@Internal
public final class ChangelogKeys {

    /** Header holding the key group of a state change. */
    public static final String KEY_GROUP_HEADER = "fkk.kg";

    private ChangelogKeys() {}

    public static int partitionOf(int keyGroup, int maxParallelism, int partitions) {
        return (int) ((long) keyGroup * partitions / maxParallelism);
    }

    /** Encodes the state-name prefix once per state (it is the same for every record). */
    public static byte[] prefix(String stateName) {
        byte[] name = stateName.getBytes(StandardCharsets.UTF_8);
        if (name.length > 255) {
            throw new IllegalArgumentException("state name too long: " + stateName);
        }
        byte[] prefix = new byte[name.length + 1];
        prefix[0] = (byte) name.length;
        System.arraycopy(name, 0, prefix, 1, name.length);
        return prefix;
    }

    /** {@code prefix + varint(key.length) + key + mapKey}. */
    public static byte[] recordKey(byte[] prefix, byte[] key, byte[] mapKey) {
        int varintLength = varintLength(key.length);
        int mapLength = mapKey == null ? 0 : mapKey.length;
        byte[] out = new byte[prefix.length + varintLength + key.length + mapLength];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        int pos = writeVarint(out, prefix.length, key.length);
        System.arraycopy(key, 0, out, pos, key.length);
        if (mapKey != null) {
            System.arraycopy(mapKey, 0, out, pos + key.length, mapLength);
        }
        return out;
    }

    /** The state name of a record key. */
    public static String stateName(byte[] recordKey) {
        int len = recordKey[0] & 0xff;
        return new String(recordKey, 1, len, StandardCharsets.UTF_8);
    }

    /**
     * Splits a record key into {@code [userKeyStart, userKeyEnd]}; the map key (if any) runs from
     * {@code userKeyEnd} to the end.
     */
    public static int[] userKeyBounds(byte[] recordKey) {
        int pos = 1 + (recordKey[0] & 0xff);
        int value = 0;
        int shift = 0;
        while (true) {
            byte b = recordKey[pos++];
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        return new int[] {pos, pos + value};
    }

    public static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    public static int readInt(byte[] b) {
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    private static int varintLength(int v) {
        int n = 1;
        while ((v & ~0x7f) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    private static int writeVarint(byte[] out, int pos, int v) {
        while ((v & ~0x7f) != 0) {
            out[pos++] = (byte) ((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out[pos++] = (byte) v;
        return pos;
    }
}
