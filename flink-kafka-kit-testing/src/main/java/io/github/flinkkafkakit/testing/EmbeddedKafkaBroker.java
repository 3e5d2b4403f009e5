package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

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
@PublicEvolving
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
        // No deletion by age: records keep the event time a test gives them, and with the
        // default 7 days the retention check (30 s after start, then every 5 min) deleted a
        // test's output stamped in 2023 once its segment rolled. Tests do not test retention.
        props.put("log.retention.ms", "-1");
        return props;
    }

    /** Super user of a broker from {@link #startWithSaslPlain} (SASL/PLAIN). */
    public static final String SASL_ADMIN_USER = "plain-admin";

    public static final String SASL_ADMIN_PASSWORD = "plain-admin-secret";

    /** A user without ACLs on a broker from {@link #startWithSaslPlain}: authorized for nothing. */
    public static final String SASL_PLAIN_USER = "plain-user1";

    public static final String SASL_PLAIN_USER_PASSWORD = "plain-user1-secret";

    /**
     * SCRAM user of a broker from {@link #startWithSaslScram}, with credentials for both
     * SCRAM-SHA-256 and SCRAM-SHA-512; a super user like {@link #SASL_ADMIN_USER}.
     */
    public static final String SCRAM_USER = "scram-admin";

    public static final String SCRAM_USER_PASSWORD = "scram-admin-secret";

    /** Iterations of the SCRAM credentials the broker stores (Kafka's minimum is 4096). */
    private static final int SCRAM_ITERATIONS = 4096;

    /**
     * Name of the client listener of {@code KafkaClusterTestKit} (the controller's is CONTROLLER).
     */
    private static final String CLIENT_LISTENER = "external";

    private static final Duration SCRAM_READY_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaClusterTestKit cluster;
    private final String bootstrapServers;
    private final Properties clientProperties;
    private final TlsMaterial tls;

    private EmbeddedKafkaBroker(
            KafkaClusterTestKit cluster, Properties clientProperties, TlsMaterial tls) {
        this.cluster = cluster;
        this.bootstrapServers = cluster.bootstrapServers();
        this.clientProperties = clientProperties;
        this.tls = tls;
    }

    /**
     * Starts a broker whose listeners require SASL/PLAIN with an ACL authorizer: users {@link
     * #SASL_ADMIN_USER} (super user) and {@link #SASL_PLAIN_USER} (no ACLs). {@link
     * #clientProperties()} authenticate as the super user.
     */
    public static EmbeddedKafkaBroker startWithSaslPlain(Map<String, String> brokerProperties) {
        return start(
                merged(brokerProperties),
                SecurityProtocol.SASL_PLAINTEXT,
                saslPlainClientProperties(SASL_ADMIN_USER, SASL_ADMIN_PASSWORD),
                null);
    }

    /**
     * Starts a broker like {@link #startWithSaslPlain} whose client listener also accepts
     * SCRAM-SHA-256 and SCRAM-SHA-512, and creates the SCRAM user {@link #SCRAM_USER} (a super
     * user) before returning. PLAIN users keep working; the controller listener stays PLAIN-only.
     *
     * <p>The SCRAM credentials are created the way an operator would, with Admin {@code
     * alterUserScramCredentials} as the PLAIN super user, and the method returns only once a
     * SCRAM-SHA-512 client can authenticate (credentials reach the broker's cache asynchronously).
     * {@link #clientProperties()} authenticate as the PLAIN super user.
     */
    public static EmbeddedKafkaBroker startWithSaslScram(Map<String, String> brokerProperties) {
        String prefix = "listener.name." + CLIENT_LISTENER + ".";
        Map<String, String> props = new LinkedHashMap<>();
        props.put(prefix + "sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
        for (String mechanism : List.of("scram-sha-256", "scram-sha-512")) {
            // The broker-side login module of a SCRAM mechanism needs no options: the
            // credentials come from the cluster metadata.
            props.put(
                    prefix + mechanism + ".sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        }
        props.put("super.users", "User:" + SASL_ADMIN_USER + ";User:" + SCRAM_USER);
        props.putAll(brokerProperties);
        EmbeddedKafkaBroker broker =
                start(
                        merged(props),
                        SecurityProtocol.SASL_PLAINTEXT,
                        saslPlainClientProperties(SASL_ADMIN_USER, SASL_ADMIN_PASSWORD),
                        null);
        try {
            broker.createScramUser(SCRAM_USER, SCRAM_USER_PASSWORD);
            return broker;
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    /** Client properties authenticating with SASL/SCRAM ({@code SCRAM-SHA-256|512}) as user. */
    public static Properties saslScramClientProperties(
            String mechanism, String user, String password) {
        Properties props = new Properties();
        props.setProperty("security.protocol", "SASL_PLAINTEXT");
        props.setProperty("sasl.mechanism", mechanism);
        props.setProperty(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + user
                        + "\" password=\""
                        + password
                        + "\";");
        return props;
    }

    /**
     * Starts a broker whose client listener speaks TLS ({@code security.protocol=SSL}, no client
     * authentication) with a self-signed certificate for {@code localhost} generated at start (see
     * {@link TlsMaterial}); the controller listener stays PLAINTEXT. {@link #clientProperties()}
     * hold {@code security.protocol=SSL} and a trust store that trusts the broker; {@link
     * #tlsMaterial()} has the stores. Both are deleted when the broker closes.
     */
    public static EmbeddedKafkaBroker startWithSsl(Map<String, String> brokerProperties) {
        TlsMaterial tls = TlsMaterial.generate("broker");
        Map<String, String> props = new LinkedHashMap<>();
        // KafkaClusterTestKit itself only knows PLAINTEXT and SASL_PLAINTEXT: map the client
        // listener to SSL ourselves (the kit sets the protocol map only when absent).
        props.put("listener.security.protocol.map", "EXTERNAL:SSL,CONTROLLER:PLAINTEXT");
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.location", tls.keyStore().toString());
        props.put("ssl.keystore.password", tls.keyStorePassword());
        props.put("ssl.key.password", tls.keyStorePassword());
        // The broker is also a client of its own SSL listener (inter-broker traffic, e.g.
        // transaction markers): it trusts its own certificate.
        props.put("ssl.truststore.type", "PKCS12");
        props.put("ssl.truststore.location", tls.trustStore().toString());
        props.put("ssl.truststore.password", tls.trustStorePassword());
        props.put("ssl.client.auth", "none");
        props.putAll(brokerProperties);
        try {
            return start(merged(props), SecurityProtocol.PLAINTEXT, tls.clientProperties(), tls);
        } catch (RuntimeException e) {
            tls.close();
            throw e;
        }
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
        return start(merged(brokerProperties), SecurityProtocol.PLAINTEXT, new Properties(), null);
    }

    private static Map<String, String> merged(Map<String, String> brokerProperties) {
        Map<String, String> props = singleNodeDefaults();
        props.putAll(brokerProperties);
        return props;
    }

    private static EmbeddedKafkaBroker start(
            Map<String, String> props,
            SecurityProtocol protocol,
            Properties clientProperties,
            TlsMaterial tls) {
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
            return new EmbeddedKafkaBroker(cluster, clientProperties, tls);
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

    /**
     * Creates (or replaces) SCRAM-SHA-256 and SCRAM-SHA-512 credentials for {@code user} on a
     * broker from {@link #startWithSaslScram}, and waits until the user can authenticate. The user
     * has no ACLs unless it is in {@code super.users}.
     */
    public void createScramUser(String user, String password) {
        try (Admin admin = Admin.create(adminProperties(clientProperties()))) {
            // One request per mechanism: a request may alter a user's credentials only once.
            for (ScramMechanism mechanism :
                    List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)) {
                UserScramCredentialAlteration upsert =
                        new UserScramCredentialUpsertion(
                                user,
                                new ScramCredentialInfo(mechanism, SCRAM_ITERATIONS),
                                password);
                admin.alterUserScramCredentials(List.of(upsert))
                        .all()
                        .get(SCRAM_READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating SCRAM user " + user, e);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Could not create SCRAM user " + user + ": " + e.getMessage(), e);
        }
        awaitAuthentication(saslScramClientProperties("SCRAM-SHA-512", user, password));
    }

    /** Retries a describeCluster with {@code props} until it succeeds. */
    private void awaitAuthentication(Properties props) {
        long deadline = System.nanoTime() + SCRAM_READY_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = Admin.create(adminProperties(props))) {
                admin.describeCluster().clusterId().get(5, TimeUnit.SECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for SCRAM", e);
            } catch (Exception e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for SCRAM", e);
            }
        }
        throw new IllegalStateException(
                "SCRAM credentials did not become usable within "
                        + SCRAM_READY_TIMEOUT.toSeconds()
                        + " s: "
                        + (last == null ? "" : last.getMessage()),
                last);
    }

    private Properties adminProperties(Properties security) {
        Properties props = new Properties();
        props.putAll(security);
        props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        return props;
    }

    /**
     * The generated key and trust stores of a broker from {@link #startWithSsl}.
     *
     * @throws IllegalStateException for a broker without TLS
     */
    public TlsMaterial tlsMaterial() {
        if (tls == null) {
            throw new IllegalStateException("This broker was not started with startWithSsl");
        }
        return tls;
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
        if (tls != null) {
            tls.close();
        }
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
