package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;

/**
 * Layout of changelog record keys and the key-group → partition mapping.
 *
 * <p>Record key: {@code [key group: 2 bytes, big-endian][name length: 1 byte][state name,
 * UTF-8][user key length: varint][user key bytes][map key bytes (map state only)]}, user and map
 * keys serialized with the state's own serializers. The key group comes first so a restoring
 * subtask skips records of key groups it does not own from two bytes, without deserializing keys or
 * parsing headers (the key group is a function of the user key, so compaction is unchanged).
 *
 * <p>Partition of key group {@code kg}: {@code kg * partitions / maxParallelism} — contiguous
 * key-group ranges map to contiguous partitions, so a subtask reads only the few partitions that
 * can hold its key groups, whatever parallelism wrote them.
 */
@Internal
public final class ChangelogKeys {

    /** Bytes before the state name: the key group. */
    static final int KEY_GROUP_BYTES = 2;

    /**
     * Key of the commit marker ({@link CommitMarker}) each committed transaction writes to every
     * changelog partition: key group bytes {@code 0xFFFF} (no key group: there are at most 32768)
     * and a name no state has. Compaction keeps the latest per partition.
     */
    public static final byte[] COMMIT_MARKER = commitMarkerKey();

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

    /** {@code keyGroup + prefix + varint(key.length) + key + mapKey}. */
    public static byte[] recordKey(int keyGroup, byte[] prefix, byte[] key, byte[] mapKey) {
        int varintLength = varintLength(key.length);
        int mapLength = mapKey == null ? 0 : mapKey.length;
        byte[] out =
                new byte[KEY_GROUP_BYTES + prefix.length + varintLength + key.length + mapLength];
        out[0] = (byte) (keyGroup >>> 8);
        out[1] = (byte) keyGroup;
        System.arraycopy(prefix, 0, out, KEY_GROUP_BYTES, prefix.length);
        int pos = writeVarint(out, KEY_GROUP_BYTES + prefix.length, key.length);
        System.arraycopy(key, 0, out, pos, key.length);
        if (mapKey != null) {
            System.arraycopy(mapKey, 0, out, pos + key.length, mapLength);
        }
        return out;
    }

    private static byte[] commitMarkerKey() {
        byte[] name = "__fkk.commit".getBytes(StandardCharsets.UTF_8);
        byte[] key = new byte[KEY_GROUP_BYTES + name.length];
        key[0] = (byte) 0xFF;
        key[1] = (byte) 0xFF;
        System.arraycopy(name, 0, key, KEY_GROUP_BYTES, name.length);
        return key;
    }

    /** Whether a changelog record key is a {@link #COMMIT_MARKER} (not a state's record). */
    public static boolean isCommitMarker(byte[] recordKey) {
        return recordKey != null
                && recordKey.length >= KEY_GROUP_BYTES
                && recordKey[0] == (byte) 0xFF
                && recordKey[1] == (byte) 0xFF;
    }

    /** The key group of a record key. */
    public static int keyGroup(byte[] recordKey) {
        return ((recordKey[0] & 0xff) << 8) | (recordKey[1] & 0xff);
    }

    /** The state name of a record key. */
    public static String stateName(byte[] recordKey) {
        int len = recordKey[KEY_GROUP_BYTES] & 0xff;
        return new String(recordKey, KEY_GROUP_BYTES + 1, len, StandardCharsets.UTF_8);
    }

    /** Whether a record key belongs to the state with this {@link #prefix}. */
    public static boolean hasPrefix(byte[] recordKey, byte[] prefix) {
        if (recordKey == null || recordKey.length < KEY_GROUP_BYTES + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (recordKey[KEY_GROUP_BYTES + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a record key's state name starts with {@code namePrefix} (UTF-8), e.g. an operator's
     * {@code <uid>/}.
     */
    public static boolean hasNamePrefix(byte[] recordKey, byte[] namePrefix) {
        if (recordKey == null || recordKey.length <= KEY_GROUP_BYTES) {
            return false;
        }
        int length = recordKey[KEY_GROUP_BYTES] & 0xff;
        if (length < namePrefix.length
                || recordKey.length < KEY_GROUP_BYTES + 1 + namePrefix.length) {
            return false;
        }
        for (int i = 0; i < namePrefix.length; i++) {
            if (recordKey[KEY_GROUP_BYTES + 1 + i] != namePrefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Where the user key of a record key starts (after its length). */
    public static int userKeyStart(byte[] recordKey) {
        int pos = KEY_GROUP_BYTES + 1 + (recordKey[KEY_GROUP_BYTES] & 0xff);
        while (recordKey[pos++] < 0) { // a varint byte with more to come
            continue;
        }
        return pos;
    }

    /**
     * Where the user key of a record key ends: the map key (if any) runs from there to the end. Two
     * methods, not an array of both, since the restore calls them for every record.
     */
    public static int userKeyEnd(byte[] recordKey) {
        int pos = KEY_GROUP_BYTES + 1 + (recordKey[KEY_GROUP_BYTES] & 0xff);
        int length = 0;
        int shift = 0;
        while (true) {
            byte b = recordKey[pos++];
            length |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return pos + length;
            }
            shift += 7;
        }
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
