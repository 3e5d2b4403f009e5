package io.github.flinkkafkakit.testing;

import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * An in-process, single-node KRaft broker (combined broker + controller) built on Kafka's own
 * {@code KafkaClusterTestKit}. Starts in about 1.5 s, listens on a free loopback port and deletes
 * its log directories when closed.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
 *     String bootstrap = broker.bootstrapServers();
 *     ...
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements KafkaBroker {

    /** Broker settings a single-node cluster needs (replication factor 1 everywhere). */
    static Map<String, String> singleNodeDefaults() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "1");
        props.put("default.replication.factor", "1");
        props.put("min.insync.replicas", "1");
        return props;
    }

    /** Super user of a broker from {@link #startWithSaslPlain} (SASL/PLAIN). */
    public static final String SASL_ADMIN_USER = "plain-admin";

    public static final String SASL_ADMIN_PASSWORD = "plain-admin-secret";

    /** A user without ACLs on a broker from {@link #startWithSaslPlain}: authorized for nothing. */
    public static final String SASL_PLAIN_USER = "plain-user1";

    public static final String SASL_PLAIN_USER_PASSWORD = "plain-user1-secret";

    private final KafkaClusterTestKit cluster;
    private final String bootstrapServers;
    private final Properties clientProperties;

    private EmbeddedKafkaBroker(KafkaClusterTestKit cluster, Properties clientProperties) {
        this.cluster = cluster;
        this.bootstrapServers = cluster.bootstrapServers();
        this.clientProperties = clientProperties;
    }

    /**
     * Starts a broker whose listeners require SASL/PLAIN with an ACL authorizer: users {@link
     * #SASL_ADMIN_USER} (super user) and {@link #SASL_PLAIN_USER} (no ACLs). {@link
     * #clientProperties()} authenticate as the super user.
     */
    public static EmbeddedKafkaBroker startWithSaslPlain(Map<String, String> brokerProperties) {
        return start(brokerProperties, SecurityProtocol.SASL_PLAINTEXT);
    }

    /** Client properties authenticating with SASL/PLAIN as {@code user}. */
    public static Properties saslPlainClientProperties(String user, String password) {
        Properties props = new Properties();
        props.setProperty("security.protocol", "SASL_PLAINTEXT");
        props.setProperty("sasl.mechanism", "PLAIN");
        props.setProperty(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + user
                        + "\" password=\""
                        + password
                        + "\";");
        return props;
    }

    /** Starts a broker with the default single-node settings. */
    public static EmbeddedKafkaBroker start() {
        return start(Map.of());
    }

    /**
     * Starts a broker with the default single-node settings overridden by {@code brokerProperties}
     * (for example {@code transaction.max.timeout.ms}).
     */
    public static EmbeddedKafkaBroker start(Map<String, String> brokerProperties) {
        return start(brokerProperties, SecurityProtocol.PLAINTEXT);
    }

    private static EmbeddedKafkaBroker start(
            Map<String, String> brokerProperties, SecurityProtocol protocol) {
        Map<String, String> props = singleNodeDefaults();
        props.putAll(brokerProperties);
        KafkaClusterTestKit cluster = null;
        try {
            KafkaClusterTestKit.Builder builder =
                    new KafkaClusterTestKit.Builder(
                            new TestKitNodes.Builder()
                                    .setCombined(true)
                                    .setNumBrokerNodes(1)
                                    .setNumControllerNodes(1)
                                    .setBrokerSecurityProtocol(protocol)
                                    .setControllerSecurityProtocol(protocol)
                                    .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                                    .build());
            props.forEach(builder::setConfigProp);
            cluster = builder.build();
            formatQuietly(cluster);
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafkaBroker(
                    cluster,
                    protocol == SecurityProtocol.SASL_PLAINTEXT
                            ? saslPlainClientProperties(SASL_ADMIN_USER, SASL_ADMIN_PASSWORD)
                            : new Properties());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(cluster);
            throw new IllegalStateException("Interrupted while starting the embedded broker", e);
        } catch (Exception e) {
            closeQuietly(cluster);
            throw new IllegalStateException(
                    "Could not start the embedded Kafka broker: " + e.getMessage(), e);
        }
    }

    /** Kafka's storage formatter prints to stdout; keep an example's console output clean. */
    private static void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
        PrintStream stdout = System.out;
        synchronized (System.class) {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                cluster.format();
            } finally {
                System.setOut(stdout);
            }
        }
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
        return "embedded KRaft broker at " + bootstrapServers;
    }

    @Override
    public void close() {
        closeQuietly(cluster);
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        if (cluster == null) {
            return;
        }
        try {
            cluster.close();
        } catch (Exception e) {
            // Shutting down a test broker: nothing useful to do with a failure here.
        }
    }

    @Override
    public String toString() {
        return description();
    }
}
