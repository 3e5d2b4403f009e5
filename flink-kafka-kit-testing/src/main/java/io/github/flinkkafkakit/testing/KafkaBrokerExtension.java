package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.opentest4j.TestAbortedException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * JUnit 5 extension that gives a test class one Kafka broker.
 *
 * <ul>
 *   <li>Default: an in-process KRaft broker ({@link EmbeddedKafkaBroker}), started once per test
 *       class and stopped after it.
 *   <li>{@code -Dkafka.bootstrap.servers=H:P} (optionally {@code -Dkafka.client.config=FILE}): an
 *       external broker is used instead; nothing is started or stopped.
 *   <li>{@link Mode#TESTCONTAINERS} (or {@code -Dkafka.broker=testcontainers}): a Docker broker via
 *       Testcontainers; the tests are skipped, with the reason, when no Docker engine exists.
 * </ul>
 *
 * <pre>{@code
 * class MyJobITCase {
 *     @RegisterExtension
 *     static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
 *
 *     @Test
 *     void countsEveryKey(KafkaTestClient kafka) {
 *         String in = kafka.createUniqueTopic("in", 2);
 *         kafka.produce(in, List.of(KeyValue.of("a", "1")));
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>Test methods may declare {@link KafkaBroker} or {@link KafkaTestClient} parameters.
 */
@PublicEvolving
public final class KafkaBrokerExtension
        implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    /** System property selecting the broker kind: {@code embedded} or {@code testcontainers}. */
    public static final String MODE_PROPERTY = "kafka.broker";

    /** Where the broker for a test class comes from. */
    public enum Mode {
        /** External broker when {@code kafka.bootstrap.servers} is set, else embedded. */
        AUTO,
        /** Always the in-process KRaft broker. */
        EMBEDDED,
        /** A Testcontainers broker; skipped with a reason when Docker is absent. */
        TESTCONTAINERS
    }

    private final Mode mode;
    private final Map<String, String> brokerProperties;
    private KafkaBroker broker;
    private KafkaTestClient client;

    /** Embedded broker with default settings, or the external one named by system properties. */
    public KafkaBrokerExtension() {
        this(Mode.AUTO, Map.of());
    }

    /**
     * @param mode where the broker comes from
     * @param brokerProperties settings for a broker this extension starts (ignored for external
     *     brokers), e.g. {@code transaction.max.timeout.ms}
     */
    public KafkaBrokerExtension(Mode mode, Map<String, String> brokerProperties) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.brokerProperties = new LinkedHashMap<>(brokerProperties);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (broker != null) {
            return;
        }
        broker = startBroker(effectiveMode());
        client = broker.client();
    }

    private Mode effectiveMode() {
        String requested = System.getProperty(MODE_PROPERTY, "");
        if (mode == Mode.AUTO && "testcontainers".equalsIgnoreCase(requested.trim())) {
            return Mode.TESTCONTAINERS;
        }
        return mode;
    }

    private KafkaBroker startBroker(Mode effective) {
        switch (effective) {
            case TESTCONTAINERS:
                String reason = TestcontainersKafkaBroker.dockerUnavailableReason();
                if (reason != null) {
                    throw new TestAbortedException(
                            "Skipped: a Testcontainers Kafka broker was requested but " + reason);
                }
                return TestcontainersKafkaBroker.start();
            case EMBEDDED:
                return EmbeddedKafkaBroker.start(brokerProperties);
            case AUTO:
            default:
                ExternalKafkaBroker external = ExternalKafkaBroker.fromSystemProperties();
                return external != null ? external : EmbeddedKafkaBroker.start(brokerProperties);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (client != null) {
            client.close();
            client = null;
        }
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    /** The broker of the running test class. */
    public KafkaBroker broker() {
        if (broker == null) {
            throw new IllegalStateException(
                    "No broker yet: register the extension as a static @RegisterExtension field");
        }
        return broker;
    }

    /** Shortcut for {@code broker().bootstrapServers()}. */
    public String bootstrapServers() {
        return broker().bootstrapServers();
    }

    /** Shortcut for {@code broker().clientProperties()}. */
    public Properties clientProperties() {
        return broker().clientProperties();
    }

    /** A test client for the running test class's broker (shared, closed after the class). */
    public KafkaTestClient client() {
        broker();
        return client;
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == KafkaBroker.class || type == KafkaTestClient.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class ? broker() : client();
    }
}
