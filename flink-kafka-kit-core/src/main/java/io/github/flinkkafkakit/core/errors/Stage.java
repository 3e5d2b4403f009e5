package io.github.flinkkafkakit.core.errors;

import org.apache.flink.annotation.PublicEvolving;

/** Where a record failed; written to dead letters as header {@code __fkk.errors.stage}. */
@PublicEvolving
public enum Stage {
    /** Turning the Kafka record's bytes into the source's type. */
    DESERIALIZE,
    /** A user function guarded by the kit. */
    PROCESS,
    /** Turning an element into a Kafka record, or the broker refusing it (e.g. too large). */
    PRODUCE
}
