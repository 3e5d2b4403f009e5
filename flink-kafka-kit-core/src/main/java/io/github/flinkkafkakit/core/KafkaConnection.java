package io.github.flinkkafkakit.core;

import org.apache.flink.annotation.PublicEvolving;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where a Kafka cluster is and how to talk to it: bootstrap servers plus client properties
 * (security and anything else every client needs). One connection is shared by the sources, sinks
 * and preflight checks of a job, so security is configured once.
 *
 * <pre>{@code
 * KafkaConnection kafka = KafkaConnection.builder()
 *         .setBootstrapServers("broker-1:9092,broker-2:9092")
 *         .loadPropertiesFile(Path.of("client.properties")) // e.g. security.protocol, sasl.*
 *         .build();
 * }</pre>
 *
 * <p>{@link #toString()} masks every secret ({@code sasl.jaas.config}, {@code *.password}, {@code
 * *.key}, …), so a connection can be logged safely.
 */
@PublicEvolving
public final class KafkaConnection implements Serializable {

    private static final long serialVersionUID = 1L;

    static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    private static final String MASK = "[hidden]";

    private final String bootstrapServers;
    private final Properties properties;

    private KafkaConnection(String bootstrapServers, Properties properties) {
        this.bootstrapServers = bootstrapServers;
        this.properties = properties;
    }

    /** A connection with only bootstrap servers (no security). */
    public static KafkaConnection of(String bootstrapServers) {
        return builder().setBootstrapServers(bootstrapServers).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The {@code bootstrap.servers} value. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * All client properties including {@code bootstrap.servers}; a fresh copy the caller may modify
     * (e.g. to add producer- or consumer-specific settings).
     */
    public Properties clientProperties() {
        Properties copy = new Properties();
        copy.putAll(properties);
        copy.setProperty(BOOTSTRAP_SERVERS, bootstrapServers);
        return copy;
    }

    /** The client properties with every secret value replaced by {@code [hidden]}, sorted. */
    public Map<String, String> maskedProperties() {
        Map<String, String> masked = new TreeMap<>();
        for (String name : properties.stringPropertyNames()) {
            masked.put(name, isSecret(name) ? MASK : properties.getProperty(name));
        }
        return masked;
    }

    /**
     * Whether a client property holds a secret: JAAS config, passwords, keys, secrets, tokens and
     * PEM material.
     */
    public static boolean isSecret(String propertyName) {
        String name = propertyName.toLowerCase(Locale.ROOT);
        return name.equals("sasl.jaas.config")
                || name.endsWith(".password")
                || name.endsWith("password")
                || name.endsWith(".key")
                || name.contains("secret")
                || name.contains("token")
                || name.endsWith(".certificate.chain")
                || name.endsWith(".certificates");
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KafkaConnection)) {
            return false;
        }
        KafkaConnection other = (KafkaConnection) o;
        return bootstrapServers.equals(other.bootstrapServers)
                && properties.equals(other.properties);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bootstrapServers, properties);
    }

    @Override
    public String toString() {
        return "KafkaConnection{bootstrap.servers="
                + bootstrapServers
                + (properties.isEmpty() ? "" : ", " + maskedProperties())
                + "}";
    }

    /** Builder of {@link KafkaConnection}. */
    @PublicEvolving
    public static final class Builder {
        private String bootstrapServers;
        private final Properties properties = new Properties();

        private Builder() {}

        /** Comma-separated {@code host:port} list. */
        public Builder setBootstrapServers(String bootstrapServers) {
            checkArgument(
                    bootstrapServers != null && !bootstrapServers.isBlank(),
                    "bootstrapServers must not be empty (e.g. \"localhost:9092\")");
            this.bootstrapServers = bootstrapServers.trim();
            return this;
        }

        /** Sets one client property applied to every client (source, sink, admin). */
        public Builder setProperty(String name, String value) {
            checkArgument(name != null && !name.isBlank(), "property name must not be empty");
            checkArgument(value != null, "value of client property " + name + " must not be null");
            if (BOOTSTRAP_SERVERS.equals(name)) {
                return setBootstrapServers(value);
            }
            properties.setProperty(name, value);
            return this;
        }

        /** Sets all given client properties (see {@link #setProperty}). */
        public Builder setProperties(Properties props) {
            checkArgument(props != null, "properties must not be null");
            for (String name : props.stringPropertyNames()) {
                setProperty(name, props.getProperty(name));
            }
            return this;
        }

        /**
         * Loads a Kafka client properties file (the {@code --command-config} convention of Kafka's
         * own tools), e.g. {@code security.protocol}, {@code sasl.mechanism}, {@code
         * sasl.jaas.config}. A {@code bootstrap.servers} in the file is used unless {@link
         * #setBootstrapServers} is called afterwards.
         *
         * @throws IllegalArgumentException naming the file when it is missing or unreadable
         */
        public Builder loadPropertiesFile(Path file) {
            checkArgument(file != null, "properties file must not be null");
            Properties loaded = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                loaded.load(in);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException(
                        "Kafka client properties file " + file + " does not exist");
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "Cannot read Kafka client properties file "
                                + file
                                + ": "
                                + e.getClass().getSimpleName());
            }
            return setProperties(loaded);
        }

        public KafkaConnection build() {
            checkArgument(
                    bootstrapServers != null,
                    "bootstrap servers are not set: call setBootstrapServers(\"host:port\")");
            Properties copy = new Properties();
            copy.putAll(properties);
            return new KafkaConnection(bootstrapServers, copy);
        }
    }

    static void checkArgument(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
