package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.internal.BoundedKafkaSource;
import io.github.flinkkafkakit.core.internal.DeadLetterSink;
import io.github.flinkkafkakit.core.internal.DeadLetterSplitter;
import io.github.flinkkafkakit.core.internal.GuardedDeserializer;
import io.github.flinkkafkakit.core.internal.JobGraph;
import io.github.flinkkafkakit.core.internal.LeftWatermarks;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;
import io.github.flinkkafkakit.core.preflight.PreflightException;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import static io.github.flinkkafkakit.core.KafkaConnection.checkArgument;

/**
 * A Kafka source: the official {@link KafkaSource}, configured from one {@link KafkaConnection},
 * with checks against the cluster before the job starts (broker reachable, credentials accepted,
 * topics exist) and a bounded mode that stops at the offsets present when the job starts.
 *
 * <pre>{@code
 * KafkaIn<String> in = KafkaIn.<String>builder()
 *         .setConnection(KafkaConnection.of("localhost:9092"))
 *         .setTopics("page-views")
 *         .setGroupId("page-view-counter")
 *         .setDeserializer(KafkaDeserializers.keys(Serdes.string()))
 *         .build();
 * DataStream<String> keys = in.createStream(env);
 * }</pre>
 *
 * <p>Defaults: starts from the group's committed offsets (earliest where none), reads {@code
 * read_committed} (records of aborted transactions are skipped; an explicit {@code isolation.level}
 * of the connection or {@link Builder#setProperty} is kept), commits offsets on each checkpoint,
 * unbounded, preflight checks on.
 *
 * @param <T> what the source emits per record (see {@link KafkaDeserializers})
 */
@PublicEvolving
public final class KafkaIn<T> {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaIn.class);
    private static final String READ_COMMITTED = "read_committed";
    private static final String READ_UNCOMMITTED = "read_uncommitted";

    private final KafkaConnection connection;
    private final List<String> topics;
    private final String groupId;
    private final KafkaRecordDeserializationSchema<T> deserializer;
    private final OffsetsInitializer startingOffsets;
    private final boolean bounded;
    private final boolean preflight;
    private final Duration preflightTimeout;
    private final Properties consumerProperties;
    private final ErrorPolicy errorPolicy;
    private final String deadLetterTransactionalIdPrefix;
    private final WatermarkStrategy<T> watermarks;
    private final String uid;

    private Map<TopicPartition, Long> stoppingOffsets;

    private KafkaIn(Builder<T> b) {
        this.connection = b.connection;
        this.topics = List.copyOf(b.topics);
        this.groupId = b.groupId;
        this.deserializer = b.deserializer;
        this.startingOffsets = b.startingOffsets;
        this.bounded = b.bounded;
        this.preflight = b.preflight;
        this.preflightTimeout = b.preflightTimeout;
        this.consumerProperties = new Properties();
        this.consumerProperties.putAll(b.consumerProperties);
        this.errorPolicy = b.errorPolicy;
        this.deadLetterTransactionalIdPrefix = b.deadLetterTransactionalIdPrefix;
        this.watermarks = b.watermarks;
        this.uid = b.uid;
    }

    /**
     * Consumer settings for throughput, below the connection's and the builder's properties (which
     * override them): fetches of up to 8 MB per partition and polls of up to 5,000 records, so the
     * source reader hands over fewer, larger batches (the consumer's defaults are 1 MB and 500):
     * fewer fetch round trips and hand-overs per record, which a job that does little per record
     * (such as a count) is bound by. {@code EndToEndBench} shows the effect.
     */
    static Properties throughputDefaults() {
        Properties props = new Properties();
        props.setProperty(
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 << 20));
        props.setProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        return props;
    }

    /**
     * Consumer settings for correctness, below the connection's and the builder's properties (which
     * override them): {@code isolation.level=read_committed}, so the records of aborted (and still
     * open) transactions of an upstream exactly-once writer are never processed. Kafka's default,
     * {@code read_uncommitted}, which the connector does not change, would process them.
     */
    static Properties consumerDefaults() {
        Properties props = throughputDefaults();
        props.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, READ_COMMITTED);
        return props;
    }

    /**
     * The consumer properties of the source: {@link #consumerDefaults()}, then the connection's,
     * then the builder's ({@link Builder#setProperty}), each overriding the one before.
     */
    Properties sourceProperties() {
        Properties props = consumerDefaults();
        props.putAll(connection.clientProperties());
        props.putAll(consumerProperties);
        return props;
    }

    /** The isolation level the source reads with ({@code read_committed} unless set otherwise). */
    public String isolationLevel() {
        return sourceProperties()
                .getProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG)
                .trim()
                .toLowerCase(Locale.ROOT);
    }

    public static <T> Builder<T> builder() {
        return new Builder<>();
    }

    /**
     * Runs the preflight checks and adds the source to {@code env}, with the watermarks of {@link
     * Builder#setWatermarks} (none when not set; or use {@link
     * #createStream(StreamExecutionEnvironment, WatermarkStrategy, String)}).
     *
     * @throws PreflightException when the cluster is unreachable, refuses our credentials, or a
     *     topic is missing
     */
    public DataStream<T> createStream(StreamExecutionEnvironment env) {
        return createStream(
                env,
                watermarks != null ? watermarks : WatermarkStrategy.noWatermarks(),
                "kafka-in " + topics);
    }

    /**
     * Like {@link #createStream(StreamExecutionEnvironment)} with watermarks and a name. With a
     * {@link ErrorPolicy#deadLetter dead-letter} policy, records that cannot be deserialized are
     * written to the dead-letter topic (created with one partition if missing) with the job's
     * guarantee: exactly-once when checkpointing is exactly-once, else at-least-once.
     */
    public DataStream<T> createStream(
            StreamExecutionEnvironment env, WatermarkStrategy<T> watermarks, String name) {
        warnIfExactlyOnceReadsUncommitted(env);
        JobGraph job = JobGraph.of(env);
        checkNotWrittenBy(job);
        String uid =
                this.uid != null ? this.uid : job.uniqueUid("kafka-in-" + String.join("-", topics));
        if (errorPolicy.action() != ErrorPolicy.Action.DEAD_LETTER) {
            return env.fromSource(
                            BoundedKafkaSource.of(
                                    buildSource(
                                            GuardedDeserializer.plain(deserializer, errorPolicy))),
                            watermarks,
                            name)
                    .uid(uid);
        }
        KafkaSource<Either<T, DeadLetter>> source =
                buildSource(GuardedDeserializer.withDeadLetters(deserializer, errorPolicy));
        OutputTag<DeadLetter> tag =
                new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));
        SingleOutputStreamOperator<T> values =
                env.fromSource(BoundedKafkaSource.of(source), LeftWatermarks.of(watermarks), name)
                        .uid(uid)
                        .process(new DeadLetterSplitter<>(tag), deserializer.getProducedType())
                        .name("split dead letters")
                        .uid(uid + "-split");
        writeDeadLetters(env, values.getSideOutput(tag));
        return values;
    }

    /**
     * Logs one WARN line when the source was set to {@code read_uncommitted} (connection or {@link
     * Builder#setProperty}) and {@code env} checkpoints exactly-once: the job then processes the
     * records of aborted transactions of its input, so its results are not exactly-once. Called by
     * {@link #createStream} and by the kit's pipelines that add the source themselves; checks the
     * checkpointing configured so far.
     */
    @Internal
    public void warnIfExactlyOnceReadsUncommitted(StreamExecutionEnvironment env) {
        CheckpointConfig checkpoints = env.getCheckpointConfig();
        if (checkpoints.isCheckpointingEnabled()
                && checkpoints.getCheckpointingConsistencyMode() == CheckpointingMode.EXACTLY_ONCE
                && READ_UNCOMMITTED.equals(isolationLevel())) {
            LOG.warn(
                    "Source {} reads with isolation.level=read_uncommitted in an exactly-once job:"
                            + " records of aborted transactions in its input are processed (and"
                            + " those of open transactions, which may still abort), so the results"
                            + " are not exactly-once. Remove the isolation.level setting (default"
                            + " read_committed) or set it to read_committed.",
                    topics);
        }
    }

    /**
     * Refuses to read a topic that a sink of the kit already in {@code env}'s job writes (a
     * feedback loop), unless that sink allowed it. Called by {@link #createStream} and by the kit's
     * pipelines that add the source themselves.
     *
     * @throws IllegalStateException naming the topic and the fix
     */
    @Internal
    public void checkNotWrittenByTheJob(StreamExecutionEnvironment env) {
        checkNotWrittenBy(JobGraph.of(env));
    }

    private void checkNotWrittenBy(JobGraph job) {
        for (String topic : topics) {
            if (job.writesTopic(connection.bootstrapServers(), topic)) {
                throw new IllegalStateException(
                        "Input topic '"
                                + topic
                                + "' is also the output topic of a sink of this job: each result"
                                + " would be read back as input (a feedback loop). Read another"
                                + " topic, or call setAllowFeedbackLoop(true) on that sink if this"
                                + " is intended");
            }
        }
    }

    private void writeDeadLetters(StreamExecutionEnvironment env, DataStream<DeadLetter> letters) {
        String dlq = errorPolicy.deadLetterTopic();
        String prefix =
                deadLetterTransactionalIdPrefix != null
                        ? deadLetterTransactionalIdPrefix
                        : "fkk-dlq-"
                                + (groupId != null ? groupId : String.join("-", topics))
                                + "-"
                                + dlq;
        DeadLetterSink.write(letters, connection, dlq, prefix, preflight, preflightTimeout, null);
    }

    /**
     * The configured {@link KafkaSource} (runs the preflight checks first, and, in bounded mode,
     * fixes the stopping offsets).
     */
    public KafkaSource<T> buildSource() {
        return buildSource(deserializer);
    }

    private <O> KafkaSource<O> buildSource(KafkaRecordDeserializationSchema<O> records) {
        return buildSource(records, startingOffsets);
    }

    /**
     * The source with another record format and start (for the kit's own pipelines, e.g. the
     * changelog state, which wraps the deserializer and starts from positions stored in Kafka).
     */
    @Internal
    public <O> KafkaSource<O> buildSource(
            KafkaRecordDeserializationSchema<O> records, OffsetsInitializer start) {
        if (preflight || bounded) {
            try (KafkaPreflight check = new KafkaPreflight(connection, preflightTimeout)) {
                if (preflight) {
                    check.checkReachable();
                    check.checkTopicsExist(topics, "the source topics (KafkaIn.setTopics)");
                }
                if (bounded) {
                    stoppingOffsets = latestCommittedOffsets(check);
                }
            }
        }
        KafkaSourceBuilder<O> builder =
                KafkaSource.<O>builder()
                        .setProperties(sourceProperties())
                        .setTopics(topics)
                        .setDeserializer(records)
                        .setStartingOffsets(start);
        if (groupId != null) {
            builder.setGroupId(groupId).setClientIdPrefix(groupId);
        }
        if (bounded) {
            builder.setBounded(OffsetsInitializer.offsets(stoppingOffsets));
        }
        return builder.build();
    }

    private Map<TopicPartition, Long> latestCommittedOffsets(KafkaPreflight check) {
        return check.endOffsets(topics, IsolationLevel.READ_COMMITTED);
    }

    /**
     * In bounded mode, the offsets where the source stops (the ends present at start); empty before
     * the source was built or when unbounded.
     */
    public Map<TopicPartition, Long> stoppingOffsets() {
        return stoppingOffsets == null ? Map.of() : Collections.unmodifiableMap(stoppingOffsets);
    }

    /**
     * How long {@link #commitStoppingOffsets()} keeps retrying while the broker is unavailable
     * (e.g. restarting after a crash): the job's output is already committed, so waiting for the
     * broker beats failing a finished run.
     */
    public static final Duration FINAL_COMMIT_TIMEOUT = Duration.ofMinutes(2);

    /**
     * After a bounded job finished, commits its stopping offsets for the group, so the next run
     * with the same group starts exactly where this one stopped. A no-op when unbounded or without
     * a group id. Retriable errors (broker unreachable or restarting, coordinator moving) are
     * retried for up to {@link #FINAL_COMMIT_TIMEOUT}; other errors (e.g. not authorized) fail at
     * once.
     *
     * @throws IllegalStateException when the offsets could not be committed
     */
    public void commitStoppingOffsets() {
        if (!bounded || groupId == null || stoppingOffsets == null) {
            return;
        }
        try (KafkaPreflight check = new KafkaPreflight(connection, preflightTimeout)) {
            check.commitGroupOffsets(groupId, stoppingOffsets, FINAL_COMMIT_TIMEOUT);
        }
    }

    /** The connection this source reads through. */
    public KafkaConnection connection() {
        return connection;
    }

    /** The user's record format (before the error policy is applied). */
    public KafkaRecordDeserializationSchema<T> deserializer() {
        return deserializer;
    }

    public ErrorPolicy errorPolicy() {
        return errorPolicy;
    }

    public List<String> topics() {
        return topics;
    }

    public String groupId() {
        return groupId;
    }

    public boolean isBounded() {
        return bounded;
    }

    /** The watermark strategy of {@link Builder#setWatermarks}, or null. */
    @Internal
    public WatermarkStrategy<T> watermarks() {
        return watermarks;
    }

    @Override
    public String toString() {
        return "KafkaIn{topics="
                + topics
                + ", groupId="
                + groupId
                + ", bounded="
                + bounded
                + ", connection="
                + connection
                + "}";
    }

    /** Builder of {@link KafkaIn}. */
    @PublicEvolving
    public static final class Builder<T> {
        private KafkaConnection connection;
        private final List<String> topics = new ArrayList<>();
        private String groupId;
        private KafkaRecordDeserializationSchema<T> deserializer;
        private OffsetsInitializer startingOffsets;
        private boolean bounded;
        private boolean preflight = true;
        private Duration preflightTimeout = KafkaPreflight.DEFAULT_TIMEOUT;
        private final Properties consumerProperties = new Properties();
        private ErrorPolicy errorPolicy = ErrorPolicy.fail();
        private String deadLetterTransactionalIdPrefix;
        private String uid;
        private WatermarkStrategy<T> watermarks;
        private boolean startingOffsetsNeedGroup;

        private Builder() {}

        /**
         * What happens to a record that cannot be deserialized (default {@link ErrorPolicy#fail()}:
         * the job fails once, naming the record, without restarts).
         */
        public Builder<T> setErrorPolicy(ErrorPolicy errorPolicy) {
            checkArgument(errorPolicy != null, "error policy must not be null");
            this.errorPolicy = errorPolicy;
            return this;
        }

        /**
         * Transactional id prefix of the exactly-once dead-letter sink (default {@code
         * fkk-dlq-<group id>-<dead-letter topic>}).
         */
        public Builder<T> setDeadLetterTransactionalIdPrefix(String prefix) {
            checkArgument(prefix != null && !prefix.isBlank(), "prefix must not be empty");
            this.deadLetterTransactionalIdPrefix = prefix;
            return this;
        }

        /**
         * Operator uid of the source (its offsets in checkpoints and savepoints; default {@code
         * kafka-in-<topics>}, with {@code -2}, {@code -3}… appended when another source of the job
         * already uses it). Set it when the job restores from savepoints and its topics may change:
         * the default changes with them, and Flink then refuses the savepoint's source state.
         */
        public Builder<T> setUid(String uid) {
            checkArgument(uid != null && !uid.isBlank(), "uid must not be empty");
            this.uid = uid;
            return this;
        }

        public Builder<T> setConnection(KafkaConnection connection) {
            checkArgument(connection != null, "connection must not be null");
            this.connection = connection;
            return this;
        }

        public Builder<T> setTopics(String... topics) {
            return setTopics(List.of(topics));
        }

        public Builder<T> setTopics(List<String> topics) {
            checkArgument(topics != null && !topics.isEmpty(), "topics must not be empty");
            for (String topic : topics) {
                checkArgument(topic != null && !topic.isBlank(), "topic names must not be empty");
            }
            this.topics.clear();
            this.topics.addAll(topics);
            return this;
        }

        /** Consumer group: offsets are committed under it on each checkpoint. */
        public Builder<T> setGroupId(String groupId) {
            checkArgument(groupId != null && !groupId.isBlank(), "groupId must not be empty");
            this.groupId = groupId;
            return this;
        }

        /** What each record becomes, see {@link KafkaDeserializers}. */
        public Builder<T> setDeserializer(KafkaRecordDeserializationSchema<T> deserializer) {
            checkArgument(deserializer != null, "deserializer must not be null");
            this.deserializer = deserializer;
            return this;
        }

        /**
         * Where to start: {@link OffsetsInitializer#earliest()}, {@code latest()}, {@code
         * timestamp(ms)} or {@code committedOffsets(reset)}. Default: the group's committed
         * offsets, earliest where none (earliest when no group id is set).
         */
        public Builder<T> setStartingOffsets(OffsetsInitializer startingOffsets) {
            checkArgument(startingOffsets != null, "startingOffsets must not be null");
            this.startingOffsets = startingOffsets;
            this.startingOffsetsNeedGroup = false;
            return this;
        }

        /** Start at the earliest offset of every partition. */
        public Builder<T> setStartingOffsetsEarliest() {
            return setStartingOffsets(OffsetsInitializer.earliest());
        }

        /** Start at the end of every partition: only records written after the start are read. */
        public Builder<T> setStartingOffsetsLatest() {
            return setStartingOffsets(OffsetsInitializer.latest());
        }

        /**
         * Start at the group's committed offsets; partitions without one start at the earliest
         * offset (the default when a group id is set). Needs {@link #setGroupId}.
         */
        public Builder<T> setStartingOffsetsCommittedOrEarliest() {
            setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST));
            startingOffsetsNeedGroup = true;
            return this;
        }

        /**
         * Start at the group's committed offsets; partitions without one start at the end. Needs
         * {@link #setGroupId}.
         */
        public Builder<T> setStartingOffsetsCommittedOrLatest() {
            setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.LATEST));
            startingOffsetsNeedGroup = true;
            return this;
        }

        /**
         * Start, per partition, at the first record whose timestamp is at or after {@code time} (at
         * the end where there is none).
         */
        public Builder<T> setStartingOffsetsTimestamp(Instant time) {
            checkArgument(time != null, "starting timestamp must not be null");
            return setStartingOffsets(OffsetsInitializer.timestamp(time.toEpochMilli()));
        }

        /**
         * How often the source looks for new partitions of its topics ({@code
         * partition.discovery.interval.ms}); {@link Duration#ZERO} turns discovery off. The
         * connector's default is 5 min for unbounded sources; bounded sources never discover.
         */
        public Builder<T> setPartitionDiscovery(Duration interval) {
            checkArgument(
                    interval != null && !interval.isNegative(),
                    "partition discovery interval must be zero (off) or positive");
            consumerProperties.setProperty(
                    KafkaSourceOptions.PARTITION_DISCOVERY_INTERVAL_MS.key(),
                    Long.toString(interval.isZero() ? -1 : interval.toMillis()));
            return this;
        }

        /**
         * Event time from the Kafka record timestamps, watermarks tracked per partition and
         * trailing the largest timestamp seen by {@code maxOutOfOrderness}. A partition without
         * records for {@code idleness} is marked idle so it does not hold event time back ({@code
         * null} or zero: never idle — then one empty partition stalls every event-time window).
         *
         * <pre>{@code
         * .setWatermarks(Duration.ofSeconds(5), Duration.ofSeconds(30))
         * }</pre>
         */
        public Builder<T> setWatermarks(Duration maxOutOfOrderness, Duration idleness) {
            return setWatermarks(maxOutOfOrderness, null, idleness);
        }

        /**
         * Like {@link #setWatermarks(Duration, Duration)} with the event time taken from the
         * element by {@code timestamps} ({@code null}: the Kafka record timestamp).
         *
         * <pre>{@code
         * .setWatermarks(Duration.ofSeconds(5), (line, kafkaTs) -> line.epochMillis(),
         *         Duration.ofSeconds(30))
         * }</pre>
         */
        public Builder<T> setWatermarks(
                Duration maxOutOfOrderness,
                SerializableTimestampAssigner<T> timestamps,
                Duration idleness) {
            checkArgument(
                    maxOutOfOrderness != null && !maxOutOfOrderness.isNegative(),
                    "maxOutOfOrderness must be zero or positive");
            checkArgument(
                    idleness == null || !idleness.isNegative(),
                    "idleness must be null, zero (never idle) or positive");
            WatermarkStrategy<T> strategy =
                    WatermarkStrategy.forBoundedOutOfOrderness(maxOutOfOrderness);
            if (timestamps != null) {
                strategy = strategy.withTimestampAssigner(timestamps);
            }
            if (idleness != null && !idleness.isZero()) {
                strategy = strategy.withIdleness(idleness);
            }
            return setWatermarks(strategy);
        }

        /** Any watermark strategy, applied per partition in the source. */
        public Builder<T> setWatermarks(WatermarkStrategy<T> strategy) {
            checkArgument(strategy != null, "watermark strategy must not be null");
            this.watermarks = strategy;
            return this;
        }

        /** Stop at the end offsets present when the job starts (read_committed), then finish. */
        public Builder<T> setBounded(boolean bounded) {
            this.bounded = bounded;
            return this;
        }

        /** Turns the cluster checks before start off (default on). */
        public Builder<T> setPreflight(boolean enabled) {
            this.preflight = enabled;
            return this;
        }

        /** How long the checks before start may wait for the cluster (default 15 s). */
        public Builder<T> setPreflightTimeout(Duration timeout) {
            checkArgument(
                    timeout != null && !timeout.isNegative() && !timeout.isZero(),
                    "preflight timeout must be positive");
            this.preflightTimeout = timeout;
            return this;
        }

        /** A consumer property for this source only (e.g. {@code max.poll.records}). */
        public Builder<T> setProperty(String name, String value) {
            checkArgument(name != null && value != null, "property name and value must be set");
            consumerProperties.setProperty(name, value);
            return this;
        }

        public KafkaIn<T> build() {
            checkArgument(
                    connection != null,
                    "no connection: call setConnection(KafkaConnection.of(\"host:port\"))");
            checkArgument(!topics.isEmpty(), "no topics: call setTopics(\"topic\")");
            checkArgument(
                    deserializer != null,
                    "no deserializer: call setDeserializer(KafkaDeserializers.values(Serdes.string()))");
            checkArgument(
                    !startingOffsetsNeedGroup || groupId != null,
                    "starting from committed offsets needs a group: call setGroupId(\"my-group\")"
                            + " or start from earliest/latest/timestamp");
            if (startingOffsets == null) {
                startingOffsets =
                        groupId == null
                                ? OffsetsInitializer.earliest()
                                : OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            }
            return new KafkaIn<>(this);
        }
    }
}
