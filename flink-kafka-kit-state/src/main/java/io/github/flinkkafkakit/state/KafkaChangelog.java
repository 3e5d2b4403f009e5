package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.internal.ProducerLimits;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;
import io.github.flinkkafkakit.state.internal.ChangelogSettings;
import io.github.flinkkafkakit.state.internal.ChangelogTopics;
import io.github.flinkkafkakit.state.internal.CheckpointSettings;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.producer.ProducerConfig;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Kafka as the state store of a Flink job: keyed state whose every change goes to a compacted Kafka
 * changelog topic, so the job can be started again — with no Flink checkpoint or savepoint, at
 * another parallelism — and get its state, its input positions and its outputs back exactly.
 *
 * <pre>{@code
 * KafkaChangelog changelog = KafkaChangelog.builder()
 *         .setConnection(kafka)
 *         .setTopic("totals-state")            // compacted, created if missing
 *         .build();
 *
 * ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, kafkaIn);
 * DataStream<Tuple2<String, Long>> totals =
 *         job.process(job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
 * job.writeOutput(totals, "totals", t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
 * env.execute();
 * }</pre>
 *
 * <p>How it stays consistent (the full argument is in the repository's docs/architecture.md): state
 * changes (coalesced per checkpoint), the input positions reached at the barrier, dead letters and
 * the job's outputs all go through one transactional producer, committed when the checkpoint
 * completes. A restart without Flink state reads the committed changelog and positions, so state,
 * positions and outputs always belong to the same checkpoint.
 */
@PublicEvolving
public final class KafkaChangelog implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Default number of changelog partitions when the topic is created. */
    public static final int DEFAULT_PARTITIONS = 4;

    /** The broker's default {@code transaction.max.timeout.ms}. */

    /** Default max parallelism (key groups) of changelog operators; must stay fixed over runs. */
    public static final int DEFAULT_MAX_PARALLELISM = 128;

    /**
     * Default {@code transaction.timeout.ms} of the changelog writer: 15 min, the broker's default
     * {@code transaction.max.timeout.ms}. A transaction stays open up to the checkpoint interval
     * plus the checkpoint timeout (Flink's default: 10 min), which must stay below it.
     */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    private final KafkaConnection connection;
    private final String topic;
    private final String positionsTopic;
    private final int partitions;
    private final int maxParallelism;
    private final DeliveryGuarantee guarantee;
    private final String transactionalIdPrefix;
    private final Duration transactionTimeout;
    private final RestoreListener restoreListener;

    private KafkaChangelog(Builder b) {
        this.connection = b.connection;
        this.topic = b.topic;
        this.positionsTopic = b.positionsTopic != null ? b.positionsTopic : b.topic + "-positions";
        this.partitions = b.partitions;
        this.maxParallelism = b.maxParallelism;
        this.guarantee = b.guarantee;
        this.transactionalIdPrefix =
                b.transactionalIdPrefix != null
                        ? b.transactionalIdPrefix
                        : "fkk-changelog-" + b.topic;
        this.transactionTimeout = b.transactionTimeout;
        this.restoreListener = b.restoreListener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A job on {@code env} whose keyed state lives in this changelog: add its sources, Kafka-backed
     * operators and sinks through the {@link KafkaStateJob}. Creates the changelog and positions
     * topics if missing (checking them if present) and checks the broker's transaction limit.
     *
     * @throws IllegalStateException when the job's checkpointing cannot carry Kafka state
     */
    public KafkaStateJob job(StreamExecutionEnvironment env) {
        String problem =
                CheckpointSettings.problem(env.getConfiguration(), guarantee, transactionTimeout);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        int maxRequestSize = ProducerLimits.maxRequestSize(connection.clientProperties());
        int changelogPartitions = ChangelogTopics.ensureCompacted(connection, topic, partitions);
        ChangelogTopics.ensureCompacted(connection, positionsTopic, 1);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            checkTransactionTimeout();
        }
        return new KafkaStateJob(
                this,
                env,
                new ChangelogSettings(
                        connection,
                        topic,
                        positionsTopic,
                        changelogPartitions,
                        maxParallelism,
                        List.of(),
                        guarantee,
                        transactionalIdPrefix,
                        transactionTimeout,
                        maxRequestSize));
    }

    /**
     * Starts a job of one source and keyed {@link ChangelogFunction}s (see {@link #job} for any
     * job): on a start without Flink state the source resumes at the positions committed with the
     * state.
     */
    public <T> ChangelogPipeline<T> pipeline(StreamExecutionEnvironment env, KafkaIn<T> in) {
        return new ChangelogPipeline<>(this, job(env), in);
    }

    /** The writer's transaction timeout against the broker's limit. */
    private void checkTransactionTimeout() {
        try (KafkaPreflight check = new KafkaPreflight(connection)) {
            check.checkTransactionTimeout(
                    transactionTimeout,
                    "the changelog writer of '" + topic + "'",
                    "lower it with KafkaChangelog.Builder#setTransactionTimeout (and the checkpoint"
                            + " timeout below it)");
        }
    }

    /** Creates dead-letter {@code topic} with {@code partitions} when it is missing. */
    void ensureTopic(String topic, int partitions) {
        try (KafkaPreflight check = new KafkaPreflight(connection)) {
            check.createTopicIfMissing(topic, partitions, Map.of(), "dead-letter");
        }
    }

    public KafkaConnection connection() {
        return connection;
    }

    public String topic() {
        return topic;
    }

    public String positionsTopic() {
        return positionsTopic;
    }

    public int partitions() {
        return partitions;
    }

    public int maxParallelism() {
        return maxParallelism;
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return guarantee;
    }

    public String transactionalIdPrefix() {
        return transactionalIdPrefix;
    }

    /** The writer's {@code transaction.timeout.ms}. */
    public Duration transactionTimeout() {
        return transactionTimeout;
    }

    RestoreListener restoreListener() {
        return restoreListener;
    }

    /** Builder of {@link KafkaChangelog}. */
    @PublicEvolving
    public static final class Builder {
        private KafkaConnection connection;
        private String topic;
        private String positionsTopic;
        private int partitions = DEFAULT_PARTITIONS;
        private int maxParallelism = DEFAULT_MAX_PARALLELISM;
        private DeliveryGuarantee guarantee = DeliveryGuarantee.EXACTLY_ONCE;
        private String transactionalIdPrefix;
        private Duration transactionTimeout;
        private RestoreListener restoreListener;

        private Builder() {}

        public Builder setConnection(KafkaConnection connection) {
            check(connection != null, "connection must not be null");
            this.connection = connection;
            return this;
        }

        /** The compacted changelog topic (created with {@link #setPartitions} if missing). */
        public Builder setTopic(String topic) {
            check(topic != null && !topic.isBlank(), "topic must not be empty");
            this.topic = topic;
            return this;
        }

        /** Where input positions are committed (default {@code <topic>-positions}). */
        public Builder setPositionsTopic(String positionsTopic) {
            check(positionsTopic != null && !positionsTopic.isBlank(), "topic must not be empty");
            this.positionsTopic = positionsTopic;
            return this;
        }

        /**
         * Partitions of a newly created changelog topic (default 4; existing topics keep theirs).
         */
        public Builder setPartitions(int partitions) {
            check(partitions > 0, "partitions must be positive, got " + partitions);
            this.partitions = partitions;
            return this;
        }

        /** Key groups (default 128); must not change between runs over the same changelog. */
        public Builder setMaxParallelism(int maxParallelism) {
            check(
                    maxParallelism > 0 && maxParallelism <= 32768,
                    "maxParallelism must be in 1..32768, got " + maxParallelism);
            this.maxParallelism = maxParallelism;
            return this;
        }

        /**
         * {@code EXACTLY_ONCE} (default: the restart-from-Kafka guarantee needs it) or {@code
         * AT_LEAST_ONCE} (changes are written at each checkpoint, but a restart may count input
         * twice).
         */
        public Builder setDeliveryGuarantee(DeliveryGuarantee guarantee) {
            check(
                    guarantee != null && guarantee != DeliveryGuarantee.NONE,
                    "use EXACTLY_ONCE or AT_LEAST_ONCE");
            this.guarantee = guarantee;
            return this;
        }

        /** Prefix of the writer's transactional ids (default {@code fkk-changelog-<topic>}). */
        public Builder setTransactionalIdPrefix(String prefix) {
            check(prefix != null && !prefix.isBlank(), "prefix must not be empty");
            this.transactionalIdPrefix = prefix;
            return this;
        }

        /**
         * The writer's {@code transaction.timeout.ms} (default: the connection's {@code
         * transaction.timeout.ms} if it sets one, else {@link #DEFAULT_TRANSACTION_TIMEOUT}). It
         * must not exceed the broker's {@code transaction.max.timeout.ms} (checked when the
         * pipeline is built) and must exceed the checkpoint interval plus the checkpoint timeout
         * (checked when the job starts).
         */
        public Builder setTransactionTimeout(Duration timeout) {
            check(
                    timeout != null && !timeout.isNegative() && !timeout.isZero(),
                    "transaction timeout must be positive");
            this.transactionTimeout = timeout;
            return this;
        }

        /** Told about restore progress of each parallel instance. */
        public Builder setRestoreListener(RestoreListener listener) {
            this.restoreListener = listener;
            return this;
        }

        public KafkaChangelog build() {
            check(connection != null, "no connection: call setConnection(...)");
            check(topic != null, "no changelog topic: call setTopic(\"my-job-state\")");
            if (transactionTimeout == null) {
                String configured =
                        connection
                                .clientProperties()
                                .getProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG);
                transactionTimeout =
                        configured != null
                                ? Duration.ofMillis(Long.parseLong(configured.trim()))
                                : DEFAULT_TRANSACTION_TIMEOUT;
            }
            return new KafkaChangelog(this);
        }

        private static void check(boolean condition, String message) {
            if (!condition) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
