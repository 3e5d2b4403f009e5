package io.github.flinkkafkakit.core.preflight;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A mistake found before the job runs: an unreachable broker, failed authentication, a missing
 * topic, a setting the broker would reject. The message is one line naming the cause and the fix,
 * and never contains a secret.
 */
@PublicEvolving
public class PreflightException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PreflightException(String message) {
        super(message);
    }
}
