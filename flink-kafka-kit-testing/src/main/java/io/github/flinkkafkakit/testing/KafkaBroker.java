package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Properties;

/**
 * A Kafka broker a test (or an example in embedded mode) talks to: the in-process KRaft broker, an
 * external cluster, or a Testcontainers broker.
 *
 * <pre>{@code
 * @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
 *
 * @Test
 * void roundTrip() {
 *     KafkaTestClient client = KAFKA.client();
 *     String topic = client.createUniqueTopic("in", 2);
 *     ...
 * }
 * }</pre>
 */
@PublicEvolving
public interface KafkaBroker extends AutoCloseable {

    /** The {@code bootstrap.servers} value clients use to reach this broker. */
    String bootstrapServers();

    /**
     * Client properties needed to talk to the broker besides {@code bootstrap.servers} (for example
     * security settings of an external cluster). A fresh copy on each call.
     */
    Properties clientProperties();

    /** A short human-readable description (no secrets), e.g. {@code embedded KRaft broker at …}. */
    String description();

    /** A test client bound to this broker. */
    default KafkaTestClient client() {
        return new KafkaTestClient(bootstrapServers(), clientProperties());
    }

    /** Stops the broker if this object started it; a no-op for external brokers. */
    @Override
    void close();
}
