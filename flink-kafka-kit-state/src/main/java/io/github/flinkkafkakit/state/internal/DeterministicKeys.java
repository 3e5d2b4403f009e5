package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.internal.DeterministicSerializers;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * Checks that a key serializer writes equal keys as equal bytes. Changelog records are compacted
 * and tombstoned by key bytes: a key that could be written two ways would leave an old value beside
 * a newer one or beside its tombstone, and a restore could bring a cleared value back. Accepted:
 * strings, integral numbers, booleans, chars, bytes arrays, enums, dates and instants, and tuples,
 * rows and POJOs made of those. Refused (when the job starts, naming the type): floating point (two
 * NaNs, -0.0), Kryo-serialized generic types and anything else.
 */
@Internal
final class DeterministicKeys {

    private DeterministicKeys() {}

    /**
     * @throws SuppressRestartsException naming the key type when its serializer is not known to be
     *     deterministic
     */
    static void check(TypeSerializer<?> keySerializer, String operator) {
        String problem = problem(keySerializer);
        if (problem != null) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            "Kafka-backed state of operator '"
                                    + operator
                                    + "' needs keys that serialize deterministically (equal keys,"
                                    + " equal bytes: the changelog is compacted by them), and "
                                    + problem
                                    + ": key by a String, an integral number, or a tuple or POJO"
                                    + " of those"));
        }
    }

    /** Why {@code serializer} may not be deterministic, or null. */
    static String problem(TypeSerializer<?> serializer) {
        return DeterministicSerializers.problem(serializer);
    }
}
