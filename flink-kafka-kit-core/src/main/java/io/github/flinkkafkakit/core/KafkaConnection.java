package io.github.flinkkafkakit.core;

import org.apache.flink.annotation.PublicEvolving;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.AccessDeniedException;
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

        /** {@code security.protocol}: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
        public Builder setSecurityProtocol(String protocol) {
            checkArgument(
                    protocol != null
                            && java.util.Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
                                    .contains(protocol.toUpperCase(Locale.ROOT)),
                    "security protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
            return setProperty("security.protocol", protocol.toUpperCase(Locale.ROOT));
        }

        /**
         * SASL/PLAIN with a user name and password ({@code sasl.mechanism=PLAIN} and the JAAS
         * line); sets {@code security.protocol=SASL_PLAINTEXT} unless a SASL protocol is set.
         */
        public Builder setSaslPlain(String user, String password) {
            return setSasl(
                    "PLAIN",
                    "org.apache.kafka.common.security.plain.PlainLoginModule",
                    user,
                    password);
        }

        /** SASL/SCRAM ({@code SCRAM-SHA-256} or {@code SCRAM-SHA-512}) with user and password. */
        public Builder setSaslScram(String mechanism, String user, String password) {
            checkArgument(
                    "SCRAM-SHA-256".equals(mechanism) || "SCRAM-SHA-512".equals(mechanism),
                    "SCRAM mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512");
            return setSasl(
                    mechanism,
                    "org.apache.kafka.common.security.scram.ScramLoginModule",
                    user,
                    password);
        }

        private Builder setSasl(String mechanism, String module, String user, String password) {
            checkArgument(user != null && !user.isBlank(), "SASL user must not be empty");
            checkArgument(password != null, "SASL password must not be null");
            String protocol = properties.getProperty("security.protocol", "");
            if (!protocol.startsWith("SASL_")) {
                setProperty("security.protocol", "SASL_PLAINTEXT");
            }
            setProperty("sasl.mechanism", mechanism);
            return setProperty(
                    "sasl.jaas.config",
                    module
                            + " required username=\""
                            + jaasEscape(user)
                            + "\" password=\""
                            + jaasEscape(password)
                            + "\";");
        }

        private static String jaasEscape(String value) {
            return value.replace("\\", "\\\\").replace("\"", "\\\"");
        }

        /** TLS trust store ({@code ssl.truststore.location|password|type}). */
        public Builder setSslTrustStore(Path location, String password, String type) {
            checkArgument(location != null, "trust store location must not be null");
            setProperty("ssl.truststore.location", location.toString());
            if (password != null) {
                setProperty("ssl.truststore.password", password);
            }
            return setProperty("ssl.truststore.type", type == null ? "PKCS12" : type);
        }

        /**
         * TLS key store for client authentication ({@code ssl.keystore.*}, {@code
         * ssl.key.password}).
         */
        public Builder setSslKeyStore(
                Path location, String storePassword, String keyPassword, String type) {
            checkArgument(location != null, "key store location must not be null");
            setProperty("ssl.keystore.location", location.toString());
            if (storePassword != null) {
                setProperty("ssl.keystore.password", storePassword);
            }
            if (keyPassword != null) {
                setProperty("ssl.key.password", keyPassword);
            }
            return setProperty("ssl.keystore.type", type == null ? "PKCS12" : type);
        }

        /**
         * Loads a Kafka client properties file (the {@code --command-config} convention of Kafka's
         * own tools), e.g. {@code security.protocol}, {@code sasl.mechanism}, {@code
         * sasl.jaas.config}. A {@code bootstrap.servers} in the file is used unless {@link
         * #setBootstrapServers} is called afterwards.
         *
         * @throws IllegalArgumentException naming the file when it is missing, unreadable, a
         *     directory or not in properties format
         */
        public Builder loadPropertiesFile(Path file) {
            checkArgument(file != null, "properties file must not be null");
            Properties loaded = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                loaded.load(in);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException(
                        "Kafka client properties file " + file + " does not exist");
            } catch (AccessDeniedException e) {
                throw new IllegalArgumentException(
                        "Kafka client properties file " + file + " is not readable");
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "Cannot read Kafka client properties file "
                                + file
                                + (Files.isDirectory(file)
                                        ? ": it is a directory"
                                        : ": " + Objects.toString(e.getMessage(), "I/O error")));
            } catch (IllegalArgumentException e) {
                // Properties.load rejects a malformed unicode escape; its message carries no value.
                throw new IllegalArgumentException(
                        "Kafka client properties file "
                                + file
                                + " is not a valid properties file: "
                                + e.getMessage());
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
