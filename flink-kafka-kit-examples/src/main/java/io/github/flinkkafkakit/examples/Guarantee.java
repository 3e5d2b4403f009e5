package io.github.flinkkafkakit.examples;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;

/** The {@code --guarantee} values of the examples. */
public enum Guarantee {
    EXACTLY_ONCE("exactly-once", DeliveryGuarantee.EXACTLY_ONCE, CheckpointingMode.EXACTLY_ONCE),
    AT_LEAST_ONCE(
            "at-least-once", DeliveryGuarantee.AT_LEAST_ONCE, CheckpointingMode.AT_LEAST_ONCE),
    NONE("none", DeliveryGuarantee.NONE, CheckpointingMode.AT_LEAST_ONCE);

    private final String cliName;
    private final DeliveryGuarantee delivery;
    private final CheckpointingMode checkpointing;

    Guarantee(String cliName, DeliveryGuarantee delivery, CheckpointingMode checkpointing) {
        this.cliName = cliName;
        this.delivery = delivery;
        this.checkpointing = checkpointing;
    }

    public DeliveryGuarantee delivery() {
        return delivery;
    }

    public CheckpointingMode checkpointingMode() {
        return checkpointing;
    }

    @Override
    public String toString() {
        return cliName;
    }

    /** Parses {@code exactly-once|at-least-once|none} (case-insensitive; {@code _} allowed). */
    public static Guarantee parse(String value) {
        String normalized = value.trim().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        for (Guarantee g : values()) {
            if (g.cliName.equals(normalized)) {
                return g;
            }
        }
        throw new IllegalArgumentException(
                "unknown guarantee '" + value + "' (expected exactly-once, at-least-once or none)");
    }
}
