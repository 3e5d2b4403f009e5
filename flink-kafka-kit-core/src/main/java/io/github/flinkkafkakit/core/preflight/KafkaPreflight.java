package io.github.flinkkafkakit.core.preflight;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks against the live cluster that turn runtime surprises into one clear line before the job
 * starts: broker unreachable, authentication or authorization failure, missing topics, broker
 * limits. Every check finishes within the configured timeout (15 s by default). It is also the one
 * place the kit's sources, sinks and changelog administer Kafka: topic creation, end offsets and
 * the final offset commit of a bounded run.
 *
 * <pre>{@code
 * try (KafkaPreflight preflight = new KafkaPreflight(connection)) {
 *     preflight.checkReachable();
 *     preflight.checkTopicsExist(List.of("orders"), "the source topics");
 * }
 * }</pre>
 */
@PublicEvolving
public final class KafkaPreflight implements AutoCloseable {

    /** Default time allowed for reaching the cluster. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private final KafkaConnection connection;
    private final Duration timeout;
    private Admin admin;
    private Node someBroker;

    public KafkaPreflight(KafkaConnection connection) {
        this(connection, DEFAULT_TIMEOUT);
    }

    public KafkaPreflight(KafkaConnection connection, Duration timeout) {
        this.connection = connection;
        this.timeout = timeout;
    }

    /**
     * Fails unless a broker answers within the timeout and accepts our credentials.
     *
     * @throws PreflightException with the cause and the fix
     */
    public void checkReachable() {
        DescribeClusterResult cluster = admin().describeCluster();
        Collection<Node> nodes = await(cluster.nodes());
        someBroker = nodes.stream().findFirst().orElse(null);
    }

    /**
     * Fails unless every topic exists (and is visible to us).
     *
     * @param option the option or setter that named the topics, used in the message
     */
    public void checkTopicsExist(Collection<String> topics, String option) {
        for (String topic : topics) {
            if (!topicExists(topic)) {
                throw new PreflightException(
                        "Topic '"
                                + topic
                                + "' does not exist on "
                                + connection.bootstrapServers()
                                + ": create it or fix "
                                + option);
            }
        }
    }

    /** Whether {@code topic} exists; authorization failures are reported as such. */
    public boolean topicExists(String topic) {
        return describeTopic(topic).isPresent();
    }

    /** The topic's description, or empty when it does not exist. */
    public Optional<TopicDescription> describeTopic(String topic) {
        try {
            Map<String, TopicDescription> result =
                    admin().describeTopics(List.of(topic))
                            .allTopicNames()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.ofNullable(result.get(topic));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return Optional.empty();
            }
            throw translate(e.getCause(), "describe topic '" + topic + "'");
        } catch (TimeoutException e) {
            throw unreachable();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException("Interrupted while checking Kafka");
        }
    }

    /**
     * A broker configuration value (e.g. {@code transaction.max.timeout.ms}), or empty when the
     * broker does not let us read its configuration.
     */
    public Optional<String> brokerConfig(String name) {
        if (someBroker == null) {
            checkReachable();
        }
        if (someBroker == null) {
            return Optional.empty();
        }
        ConfigResource resource =
                new ConfigResource(ConfigResource.Type.BROKER, someBroker.idString());
        try {
            Config config =
                    admin().describeConfigs(List.of(resource))
                            .all()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                            .get(resource);
            ConfigEntry entry = config == null ? null : config.get(name);
            return entry == null ? Optional.empty() : Optional.ofNullable(entry.value());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                return Optional.empty();
            }
            throw translate(e.getCause(), "read broker configuration");
        } catch (TimeoutException e) {
            throw unreachable();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException("Interrupted while checking Kafka");
        }
    }

    /**
     * A topic configuration value (e.g. {@code max.message.bytes}), or empty when the topic does
     * not exist or we may not read its configuration.
     */
    public Optional<String> topicConfig(String topic, String name) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            Config config =
                    admin().describeConfigs(List.of(resource))
                            .all()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                            .get(resource);
            ConfigEntry entry = config == null ? null : config.get(name);
            return entry == null ? Optional.empty() : Optional.ofNullable(entry.value());
        } catch (ExecutionException e) {
            return Optional.empty();
        } catch (TimeoutException e) {
            throw unreachable();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException("Interrupted while checking Kafka");
        }
    }

    /** The shared admin client of this preflight (created on first use, closed by close()). */
    public Admin admin() {
        if (admin == null) {
            Properties props = connection.clientProperties();
            long ms = timeout.toMillis();
            props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(ms));
            props.putIfAbsent(
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                    Long.toString(Math.min(ms, 10_000)));
            props.putIfAbsent(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "5000");
            props.putIfAbsent(
                    AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
            props.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
            props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "fkk-preflight");
            try {
                admin = Admin.create(props);
            } catch (org.apache.kafka.common.KafkaException e) {
                throw new PreflightException(
                        "Cannot create a Kafka client for bootstrap.servers="
                                + connection.bootstrapServers()
                                + ": "
                                + causeChain(e)
                                + " (check bootstrap.servers and the client properties of the"
                                + " KafkaConnection)");
            }
        }
        return admin;
    }

    private <T> T await(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw translate(e.getCause(), "connect");
        } catch (TimeoutException e) {
            throw unreachable();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException("Interrupted while checking Kafka");
        }
    }

    private PreflightException unreachable() {
        return new PreflightException(
                "Cannot reach Kafka at "
                        + connection.bootstrapServers()
                        + ": no broker answered within "
                        + timeout.toSeconds()
                        + " s. Check bootstrap.servers of the KafkaConnection, that the broker is"
                        + " running, and security.protocol in the client properties");
    }

    /** One line for a client failure, without secrets (Kafka's messages carry none). */
    private PreflightException translate(Throwable cause, String action) {
        if (cause instanceof SslAuthenticationException) {
            // Kafka's own message is just "SSL handshake failed": the causes say why (e.g. "PKIX
            // path building failed ... unable to find valid certification path").
            return new PreflightException(
                    "SSL handshake with "
                            + connection.bootstrapServers()
                            + " failed ("
                            + causeChain(cause)
                            + "): check ssl.truststore.location and ssl.truststore.password in the"
                            + " client properties of the KafkaConnection; the trust store must hold the"
                            + " CA of the broker's certificate, which must name the host in"
                            + " bootstrap.servers");
        }
        if (cause instanceof SaslAuthenticationException
                || cause instanceof AuthenticationException) {
            return new PreflightException(
                    "Authentication failed at "
                            + connection.bootstrapServers()
                            + " ("
                            + safeMessage(cause)
                            + "): check the user name and password in sasl.jaas.config /"
                            + " the SSL settings of the client properties of the KafkaConnection");
        }
        if (cause instanceof AuthorizationException) {
            return new PreflightException(
                    "Not authorized to "
                            + action
                            + " at "
                            + connection.bootstrapServers()
                            + " ("
                            + safeMessage(cause)
                            + "): grant the principal the needed ACLs or use another user");
        }
        if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
            return unreachable();
        }
        return new PreflightException(
                "Kafka at "
                        + connection.bootstrapServers()
                        + " refused to "
                        + action
                        + ": "
                        + cause.getClass().getSimpleName()
                        + ": "
                        + safeMessage(cause));
    }

    /**
     * The messages of {@code t} and its causes, e.g. "Failed to create new KafkaAdminClient: Failed
     * to load SSL keystore … of type PKCS12: keystore password was incorrect" — Kafka's outermost
     * message alone ("Failed to create new KafkaAdminClient") does not say what is wrong.
     */
    static String causeChain(Throwable t) {
        StringBuilder chain = new StringBuilder();
        String previous = "";
        int depth = 0;
        for (Throwable c = t; c != null && depth < 8; c = c.getCause(), depth++) {
            String message = safeMessage(c);
            // Wrappers often repeat their cause's message (new KafkaException(cause)).
            if (previous.contains(message)) {
                continue;
            }
            if (chain.length() > 0) {
                chain.append(": ");
            }
            chain.append(message);
            previous = message;
            if (c.getCause() == c) {
                break;
            }
        }
        return chain.toString();
    }

    private static String safeMessage(Throwable t) {
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        // Kafka messages never carry credentials, but be strict: one line, no JAAS fragments.
        message = message.replace('\n', ' ').replace('\r', ' ');
        int jaas = message.indexOf("password=");
        return jaas < 0 ? message : message.substring(0, jaas) + "password=[hidden]";
    }

    /** The broker's {@code transaction.max.timeout.ms} when it does not say (Kafka's default). */
    public static final Duration BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    /**
     * Checks a transactional producer's {@code transaction.timeout.ms} against the broker's {@code
     * transaction.max.timeout.ms}: above it, the producer fails only at its first transaction.
     *
     * @param owner whose timeout it is, for the message (e.g. "the sink to 'orders'")
     * @param fix how to lower it, for the message
     * @throws PreflightException when it is above the broker's limit
     */
    public void checkTransactionTimeout(Duration timeout, String owner, String fix) {
        long max =
                brokerConfig("transaction.max.timeout.ms")
                        .map(Long::parseLong)
                        .orElse(BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT.toMillis());
        if (timeout.toMillis() > max) {
            throw new PreflightException(
                    "transaction.timeout.ms="
                            + timeout.toMillis()
                            + " of "
                            + owner
                            + " is above the broker's transaction.max.timeout.ms="
                            + max
                            + ": "
                            + fix
                            + " or raise the broker limit");
        }
    }

    /**
     * Creates {@code topic} with {@code partitions} (the broker's replication factor) and {@code
     * configs} when it does not exist, and waits until every partition has a leader (a producer
     * sending before that can stall). Another client creating it at the same time is fine.
     *
     * @param role what the topic is, for the error message (e.g. "output", "changelog")
     * @return the topic's partition count (an existing topic keeps its own)
     * @throws PreflightException when it cannot be created
     */
    public int createTopicIfMissing(
            String topic, int partitions, Map<String, String> configs, String role) {
        Optional<TopicDescription> existing = describeTopic(topic);
        if (existing.isPresent()) {
            return existing.get().partitions().size();
        }
        NewTopic newTopic = new NewTopic(topic, partitions, (short) -1).configs(configs);
        try {
            admin().createTopics(List.of(newTopic))
                    .all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException(
                    "Interrupted while creating " + role + " topic '" + topic + "'");
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new PreflightException(
                        "Cannot create "
                                + role
                                + " topic '"
                                + topic
                                + "': "
                                + causeChain(e.getCause()));
            }
        } catch (TimeoutException e) {
            if (!topicExists(topic)) {
                throw new PreflightException(
                        "Cannot create "
                                + role
                                + " topic '"
                                + topic
                                + "': no answer within "
                                + timeout.toSeconds()
                                + " s");
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<TopicDescription> created = describeTopic(topic);
            if (created.isPresent()
                    && created.get().partitions().stream()
                            .allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                return created.get().partitions().size();
            }
            if (System.nanoTime() > deadline) {
                return created.map(d -> d.partitions().size()).orElse(partitions);
            }
            sleep(50);
        }
    }

    /**
     * The end offsets of every partition of {@code topics}: with {@code READ_COMMITTED} the last
     * stable offset (where a {@code read_committed} reader stops), else the high watermark.
     *
     * @throws PreflightException when a topic does not exist or the offsets cannot be read
     */
    public Map<TopicPartition, Long> endOffsets(
            Collection<String> topics, IsolationLevel isolation) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (String topic : topics) {
            TopicDescription description =
                    describeTopic(topic)
                            .orElseThrow(
                                    () ->
                                            new PreflightException(
                                                    "Topic '" + topic + "' does not exist"));
            for (TopicPartitionInfo p : description.partitions()) {
                request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            }
        }
        try {
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
                    admin().listOffsets(request, new ListOffsetsOptions(isolation))
                            .all()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
            result.forEach((tp, info) -> offsets.put(tp, info.offset()));
            return offsets;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException("Interrupted while reading the end offsets of " + topics);
        } catch (ExecutionException | TimeoutException e) {
            throw new PreflightException(
                    "Cannot read the end offsets of "
                            + topics
                            + ": "
                            + causeChain(e instanceof ExecutionException ? e.getCause() : e));
        }
    }

    /**
     * Commits {@code offsets} for consumer group {@code groupId}. Retriable errors (broker
     * unreachable or restarting, coordinator moving) are retried for up to {@code retryFor}; other
     * errors (e.g. not authorized) fail at once.
     *
     * @throws IllegalStateException when the offsets could not be committed
     */
    public void commitGroupOffsets(
            String groupId, Map<TopicPartition, Long> offsets, Duration retryFor) {
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        offsets.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
        long deadline = System.nanoTime() + retryFor.toNanos();
        while (true) {
            try {
                admin().alterConsumerGroupOffsets(groupId, commit)
                        .all()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw commitFailed(groupId, e);
            } catch (Exception e) {
                Throwable cause =
                        e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                boolean retriable =
                        cause instanceof TimeoutException || cause instanceof RetriableException;
                if (!retriable || System.nanoTime() > deadline) {
                    throw commitFailed(groupId, e);
                }
                sleep(500);
            }
        }
    }

    private static IllegalStateException commitFailed(String groupId, Exception e) {
        return new IllegalStateException(
                "Could not commit the final offsets of group '" + groupId + "': " + e, e);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PreflightException("Interrupted while waiting for Kafka");
        }
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
            admin = null;
        }
    }
}
