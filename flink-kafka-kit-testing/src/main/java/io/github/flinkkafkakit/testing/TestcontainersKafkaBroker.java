package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.Internal;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

import java.util.Properties;

/**
 * A Kafka broker in a Docker container (Testcontainers). Only loaded when a test asks for it;
 * {@link #dockerUnavailableReason()} says why it cannot run when there is no Docker engine.
 */
@Internal
final class TestcontainersKafkaBroker implements KafkaBroker {

    static final String IMAGE = "apache/kafka:4.2.0";

    private final KafkaContainer container;

    private TestcontainersKafkaBroker(KafkaContainer container) {
        this.container = container;
    }

    /** {@code null} when Testcontainers and a Docker engine are available, else the reason. */
    static String dockerUnavailableReason() {
        try {
            Class.forName("org.testcontainers.DockerClientFactory");
        } catch (ClassNotFoundException | LinkageError e) {
            return "Testcontainers is not on the test classpath (add org.testcontainers:testcontainers-kafka)";
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable()
                    ? null
                    : "no Docker engine is reachable from this machine";
        } catch (RuntimeException | LinkageError e) {
            return "no Docker engine is reachable from this machine (" + e.getMessage() + ")";
        }
    }

    static TestcontainersKafkaBroker start() {
        KafkaContainer container = new KafkaContainer(IMAGE);
        container.start();
        return new TestcontainersKafkaBroker(container);
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public Properties clientProperties() {
        return new Properties();
    }

    @Override
    public String description() {
        return "Testcontainers broker " + IMAGE + " at " + bootstrapServers();
    }

    @Override
    public void close() {
        container.stop();
    }
}
