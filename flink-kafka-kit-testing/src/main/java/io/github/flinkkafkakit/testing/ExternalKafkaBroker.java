package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A broker this process did not start, chosen with {@code -Dkafka.bootstrap.servers=H:P}. Client
 * settings such as security can come from a properties file named by {@code
 * -Dkafka.client.config=FILE}. Closing it does nothing.
 */
@PublicEvolving
public final class ExternalKafkaBroker implements KafkaBroker {

    /**
     * System property naming an external broker; when set, tests use it instead of starting one.
     */
    public static final String BOOTSTRAP_PROPERTY = "kafka.bootstrap.servers";

    /** System property naming a Kafka client properties file for the external broker. */
    public static final String CLIENT_CONFIG_PROPERTY = "kafka.client.config";

    private final String bootstrapServers;
    private final Properties clientProperties;

    public ExternalKafkaBroker(String bootstrapServers, Properties clientProperties) {
        this.bootstrapServers = bootstrapServers;
        this.clientProperties = new Properties();
        this.clientProperties.putAll(clientProperties);
    }

    /** The external broker named by system properties, or {@code null} when none is named. */
    static ExternalKafkaBroker fromSystemProperties() {
        String bootstrap = System.getProperty(BOOTSTRAP_PROPERTY);
        if (bootstrap == null || bootstrap.isBlank()) {
            return null;
        }
        Properties props = new Properties();
        String config = System.getProperty(CLIENT_CONFIG_PROPERTY);
        if (config != null && !config.isBlank()) {
            try (InputStream in = Files.newInputStream(Path.of(config))) {
                props.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "Cannot read " + CLIENT_CONFIG_PROPERTY + " file " + config, e);
            }
        }
        return new ExternalKafkaBroker(bootstrap.trim(), props);
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public Properties clientProperties() {
        Properties copy = new Properties();
        copy.putAll(clientProperties);
        return copy;
    }

    @Override
    public String description() {
        return "external broker at " + bootstrapServers;
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return description();
    }
}
