package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.errors.FailureHandler;
import io.github.flinkkafkakit.core.errors.Stage;
import io.github.flinkkafkakit.core.internal.JobGraph;
import io.github.flinkkafkakit.core.internal.ProducerLimits;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;
import io.github.flinkkafkakit.core.preflight.PreflightException;
import io.github.flinkkafkakit.core.serde.Serde;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.function.SerializableFunction;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static io.github.flinkkafkakit.core.KafkaConnection.checkArgument;

/**
 * A Kafka sink: the official {@link KafkaSink} with correct defaults and checks before start.
 *
 * <pre>{@code
 * KafkaOut<Tuple2<String, Long>> out = KafkaOut.<Tuple2<String, Long>>builder()
 *         .setConnection(kafka)
 *         .setTopic("counts")
 *         .setKey(t -> t.f0, Serdes.string())
 *         .setValue(t -> t.f1, Serdes.longAsText())
 *         .setTransactionalIdPrefix("page-view-counter")
 *         .build();
 * out.writeTo(counts);
 * }</pre>
 *
 * <p>Defaults and checks:
 *
 * <ul>
 *   <li>delivery guarantee {@link DeliveryGuarantee#EXACTLY_ONCE}; it needs checkpointing (refused
 *       with a clear message when the job has none) and a transactional id prefix unique to the job
 *       (refused when two sinks of the job share one);
 *   <li>{@code transaction.timeout.ms} = 10 min, within the broker's {@code
 *       transaction.max.timeout.ms} (15 min by default; the connector's own 1 h default is rejected
 *       by brokers at runtime) — checked against the broker's actual limit;
 *   <li>the topic must exist (or {@link Builder#setAutoCreateTopic} creates it), and must not be a
 *       topic the same job reads, unless {@link Builder#setAllowFeedbackLoop} says so;
 *   <li>producer batching tuned for throughput ({@code linger.ms=5}, {@code batch.size=65536}).
 * </ul>
 *
 * @param <T> the element type written
 */
@PublicEvolving
public final class KafkaOut<T> {

    /** Default {@code transaction.timeout.ms}: 10 minutes, below the broker's 15 min maximum. */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(10);

    private final KafkaConnection connection;
    private final String topic;
    private final SerializableFunction<T, ?> keyExtractor;
    private final Serde<Object> keySerde;
    private final SerializableFunction<T, ?> valueExtractor;
    private final Serde<Object> valueSerde;
    private final HeaderWriter<T> headerWriter;
    private final SerializableFunction<T, Long> timestampExtractor;
    private final SerializableFunction<T, String> topicSelector;
    private final ErrorPolicy errorPolicy;
    private final DeliveryGuarantee guarantee;
    private final String transactionalIdPrefix;
    private final Duration transactionTimeout;
    private final int autoCreatePartitions;
    private final boolean allowFeedbackLoop;
    private final boolean preflight;
    private final Duration preflightTimeout;
    private final Properties producerProperties;
    private final String uid;

    @SuppressWarnings("unchecked")
    private KafkaOut(Builder<T> b) {
        this.connection = b.connection;
        this.topic = b.topic;
        this.keyExtractor = b.keyExtractor;
        this.keySerde = (Serde<Object>) b.keySerde;
        this.valueExtractor = b.valueExtractor;
        this.valueSerde = (Serde<Object>) b.valueSerde;
        this.headerWriter = b.headerWriter;
        this.timestampExtractor = b.timestampExtractor;
        this.topicSelector = b.topicSelector;
        this.errorPolicy = b.errorPolicy;
        this.guarantee = b.guarantee;
        this.transactionalIdPrefix = b.transactionalIdPrefix;
        this.transactionTimeout = b.transactionTimeout;
        this.autoCreatePartitions = b.autoCreatePartitions;
        this.allowFeedbackLoop = b.allowFeedbackLoop;
        this.preflight = b.preflight;
        this.preflightTimeout = b.preflightTimeout;
        this.producerProperties = new Properties();
        this.producerProperties.putAll(b.producerProperties);
        this.uid = b.uid;
    }

    public static <T> Builder<T> builder() {
        return new Builder<>();
    }

    /**
     * A builder that writes {@link KafkaRecord}s as they are: key, value and headers (topic and the
     * rest still to set). The record timestamp is {@link KafkaRecord#timestamp()} (the element's
     * Flink timestamp where it is {@code -1}), so a pass-through job keeps key, value, headers and
     * timestamp.
     *
     * <pre>{@code
     * KafkaOut.recordBuilder(Serdes.string(), JsonSerde.tree())
     *         .setConnection(kafka)
     *         .setTopic("orders-copy")
     *         .setTransactionalIdPrefix("orders-copy")
     *         .build()
     *         .writeTo(records);
     * }</pre>
     */
    public static <K, V> Builder<KafkaRecord<K, V>> recordBuilder(
            Serde<K> keySerde, Serde<V> valueSerde) {
        return KafkaOut.<KafkaRecord<K, V>>builder()
                .setKey(KafkaRecord::key, keySerde)
                .setValue(KafkaRecord::value, valueSerde)
                .setHeaders(KafkaRecord::writeHeaders)
                .setTimestamp(r -> r.timestamp() >= 0 ? r.timestamp() : null);
    }

    /**
     * Checks the job and the cluster, then adds the sink to {@code stream}'s job.
     *
     * @throws IllegalStateException when exactly-once is asked without checkpointing, the prefix is
     *     reused, or the topic is one the job reads
     * @throws PreflightException when the cluster is unreachable, refuses our credentials, lacks
     *     the topic, or would reject the transaction timeout
     */
    public DataStreamSink<T> writeTo(DataStream<T> stream) {
        StreamExecutionEnvironment env = stream.getExecutionEnvironment();
        JobGraph job = JobGraph.of(env, stream);
        checkJob(env, job);
        int maxRecordBytes =
                preflight
                        ? checkCluster(guarantee == DeliveryGuarantee.EXACTLY_ONCE)
                        : maxRequestSize();
        return stream.sinkTo(buildSink(maxRecordBytes))
                .name("kafka-out " + topic)
                .uid(uid != null ? uid : job.uniqueUid("kafka-out-" + topic));
    }

    private void checkJob(StreamExecutionEnvironment env, JobGraph job) {
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            checkArgument(
                    transactionalIdPrefix != null,
                    "exactly-once needs a transactional id prefix unique to this job: call"
                            + " setTransactionalIdPrefix(\"my-job\") or use AT_LEAST_ONCE"
                            + " (output to '"
                            + topic
                            + "')");
        }
        checkFeedbackLoop(job);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE
                && !env.getCheckpointConfig().isCheckpointingEnabled()) {
            throw new IllegalStateException(
                    "exactly-once needs checkpointing: call env.enableCheckpointing(...) or use"
                            + " setDeliveryGuarantee(AT_LEAST_ONCE) (output to '"
                            + topic
                            + "')");
        }
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE
                && job.usesTransactionalIdPrefix(transactionalIdPrefix)) {
            throw new IllegalStateException(
                    "Transactional id prefix '"
                            + transactionalIdPrefix
                            + "' is used by another sink of this job: give each exactly-once sink"
                            + " its own setTransactionalIdPrefix(...)");
        }
    }

    private void checkFeedbackLoop(JobGraph job) {
        if (!allowFeedbackLoop && job.readsTopic(connection.bootstrapServers(), topic)) {
            throw new IllegalStateException(
                    "Output topic '"
                            + topic
                            + "' is also an input topic of this job: each result would be read"
                            + " back as input (a feedback loop). Write to another topic, or call"
                            + " setAllowFeedbackLoop(true) if this is intended");
        }
    }

    /**
     * For a writer of the kit's own (the changelog writer of a Kafka-state job, which writes this
     * output in its own transactions): the checks of {@link #writeTo} that still apply — no
     * feedback loop, the topic exists (or is created), the dead-letter topic is created — and the
     * serializer that turns elements into records (the error policy applied, dead letters as
     * records for the dead-letter topic). The sink's delivery guarantee and transactional id prefix
     * do not apply.
     */
    @Internal
    public KafkaRecordSerializationSchema<T> prepareForWriter(
            DataStream<T> stream, int writerMaxRequestSize) {
        checkFeedbackLoop(JobGraph.of(stream.getExecutionEnvironment(), stream));
        int maxRecordBytes =
                Math.min(writerMaxRequestSize, preflight ? checkCluster(false) : maxRequestSize());
        return new Serializer<>(this, maxRecordBytes);
    }

    /** Runs the cluster checks; returns the largest record the producer and topic accept. */
    private int checkCluster(boolean checkTransactionTimeout) {
        try (KafkaPreflight check = new KafkaPreflight(connection, preflightTimeout)) {
            check.checkReachable();
            if (!check.topicExists(topic)) {
                if (autoCreatePartitions > 0) {
                    check.createTopicIfMissing(topic, autoCreatePartitions, Map.of(), "output");
                } else {
                    throw new PreflightException(
                            "Output topic '"
                                    + topic
                                    + "' does not exist on "
                                    + connection.bootstrapServers()
                                    + ": create it, or call setAutoCreateTopic(partitions)");
                }
            }
            createDeadLetterTopic(check);
            if (checkTransactionTimeout) {
                check.checkTransactionTimeout(
                        transactionTimeout,
                        "the sink to '" + topic + "'",
                        "lower it with setTransactionTimeout(...)");
            }
            int topicLimit =
                    check.topicConfig(topic, "max.message.bytes")
                            .map(Integer::parseInt)
                            .orElse(Integer.MAX_VALUE);
            return Math.min(maxRequestSize(), topicLimit);
        }
    }

    /** The sink producer's max.request.size: its own properties over the connection's. */
    private int maxRequestSize() {
        Properties producer = connection.clientProperties();
        producer.putAll(producerProperties);
        return ProducerLimits.maxRequestSize(producer);
    }

    /**
     * The dead-letter topic of {@link ErrorPolicy#deadLetter} is created with one partition when
     * missing, as the source's is: otherwise the first dead letter waits 60 s for the topic's
     * metadata and then fails the job it was meant to keep running.
     */
    private void createDeadLetterTopic(KafkaPreflight check) {
        String letters = errorPolicy.deadLetterTopic();
        if (errorPolicy.action() == ErrorPolicy.Action.DEAD_LETTER && letters != null) {
            check.createTopicIfMissing(letters, 1, Map.of(), "dead-letter");
        }
    }

    /** The configured {@link KafkaSink} (no checks; {@link #writeTo} runs them). */
    public KafkaSink<T> buildSink() {
        return buildSink(maxRequestSize());
    }

    private KafkaSink<T> buildSink(int maxRecordBytes) {
        Properties props = connection.clientProperties();
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        props.putAll(producerProperties);
        props.setProperty(
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(transactionTimeout.toMillis()));
        var builder =
                KafkaSink.<T>builder()
                        .setKafkaProducerConfig(props)
                        .setDeliveryGuarantee(guarantee)
                        .setRecordSerializer(new Serializer<>(this, maxRecordBytes));
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            builder.setTransactionalIdPrefix(transactionalIdPrefix);
        }
        return builder.build();
    }

    public String topic() {
        return topic;
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return guarantee;
    }

    @Override
    public String toString() {
        return "KafkaOut{topic="
                + topic
                + ", guarantee="
                + guarantee
                + (guarantee == DeliveryGuarantee.EXACTLY_ONCE
                        ? ", transactionalIdPrefix=" + transactionalIdPrefix
                        : "")
                + ", connection="
                + connection
                + "}";
    }

    /**
     * Element → Kafka record. Failures (an extractor or serde throwing, a record larger than the
     * producer and topic accept) follow the sink's {@link ErrorPolicy}: a dead letter goes to the
     * dead-letter topic through the same (transactional) producer, so it commits with the output.
     */
    private static final class Serializer<T>
            implements KafkaRecordSerializationSchema<T>, KafkaDatasetFacetProvider {
        private static final long serialVersionUID = 1L;

        /** Bytes a record needs besides key, value and headers (batch and record framing). */
        private static final int RECORD_OVERHEAD = 128;

        /** How much of an oversized value a dead letter keeps. */
        static final int DEAD_LETTER_VALUE_PREFIX = 1024;

        private final String topic;
        private final SerializableFunction<T, ?> keyExtractor;
        private final Serde<Object> keySerde;
        private final SerializableFunction<T, ?> valueExtractor;
        private final Serde<Object> valueSerde;
        private final HeaderWriter<T> headerWriter;
        private final SerializableFunction<T, Long> timestampExtractor;
        private final SerializableFunction<T, String> topicSelector;
        private final FailureHandler failures;
        private final int maxRecordBytes;
        private final String transactionalIdPrefix;
        private final boolean allowFeedbackLoop;

        Serializer(KafkaOut<T> out, int maxRecordBytes) {
            this.topic = out.topic;
            this.keyExtractor = out.keyExtractor;
            this.keySerde = out.keySerde;
            this.valueExtractor = out.valueExtractor;
            this.valueSerde = out.valueSerde;
            this.headerWriter = out.headerWriter;
            this.timestampExtractor = out.timestampExtractor;
            this.topicSelector = out.topicSelector;
            this.failures = new FailureHandler(out.errorPolicy, Stage.PRODUCE);
            this.maxRecordBytes = maxRecordBytes;
            this.transactionalIdPrefix =
                    out.guarantee == DeliveryGuarantee.EXACTLY_ONCE
                            ? out.transactionalIdPrefix
                            : null;
            this.allowFeedbackLoop = out.allowFeedbackLoop;
        }

        /** What the sink reports to Flink's lineage API and to the kit's job checks. */
        @Override
        public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
            return Optional.of(
                    new JobGraph.SinkFacet(topic, transactionalIdPrefix, allowFeedbackLoop));
        }

        @Override
        public void open(
                SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
            failures.open(context.getMetricGroup());
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                T element, KafkaSinkContext context, Long elementTimestamp) {
            Long timestamp = elementTimestamp;
            byte[] key = null;
            byte[] value = null;
            String target = topic;
            try {
                if (element instanceof DeadLetter letter) {
                    // A dead letter of a record near the size limit gains context headers (stack
                    // trace, message) that push it over: cut it to fit rather than fail the job
                    // that is trying to keep running.
                    letter.fitInto(maxRecordBytes);
                }
                target = topicSelector == null ? topic : topicSelector.apply(element);
                if (timestampExtractor != null) {
                    timestamp = timestampExtractor.apply(element);
                }
                key =
                        keyExtractor == null
                                ? null
                                : keySerde.serialize(target, keyExtractor.apply(element));
                value = valueSerde.serialize(target, valueExtractor.apply(element));
                RecordHeaders headers = new RecordHeaders();
                if (headerWriter != null) {
                    headerWriter.write(element, headers);
                }
                int size = sizeOf(key) + sizeOf(value) + RECORD_OVERHEAD;
                for (Header h : headers) {
                    size += h.key().length() + sizeOf(h.value());
                }
                if (size > maxRecordBytes) {
                    throw new RecordTooLargeException(
                            "record of about "
                                    + size
                                    + " bytes is larger than the "
                                    + maxRecordBytes
                                    + " bytes the producer (max.request.size) and topic '"
                                    + target
                                    + "' (max.message.bytes) accept");
                }
                failures.onSuccess();
                return new ProducerRecord<>(target, null, timestamp, key, value, headers);
            } catch (RuntimeException e) {
                ErrorPolicy.Action action = failures.onFailure("for topic " + target, e);
                if (action != ErrorPolicy.Action.DEAD_LETTER) {
                    return null;
                }
                DeadLetter letter = new DeadLetter();
                letter.key = key;
                letter.value =
                        value == null
                                ? String.valueOf(element)
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)
                                : value;
                if (letter.value.length > DEAD_LETTER_VALUE_PREFIX
                        && e instanceof RecordTooLargeException) {
                    letter.value = java.util.Arrays.copyOf(letter.value, DEAD_LETTER_VALUE_PREFIX);
                }
                letter.topic = target;
                letter.timestamp = timestamp == null ? -1 : timestamp;
                letter.setFailure(Stage.PRODUCE, e);
                letter.fitInto(maxRecordBytes);
                return letter.toProducerRecord(failures.policy().deadLetterTopic());
            }
        }

        private static int sizeOf(byte[] bytes) {
            return bytes == null ? 0 : bytes.length;
        }
    }

    /** Builder of {@link KafkaOut}. */
    @PublicEvolving
    public static final class Builder<T> {
        private KafkaConnection connection;
        private String topic;
        private SerializableFunction<T, ?> keyExtractor;
        private Serde<?> keySerde;
        private SerializableFunction<T, ?> valueExtractor;
        private Serde<?> valueSerde;
        private HeaderWriter<T> headerWriter;
        private SerializableFunction<T, Long> timestampExtractor;
        private SerializableFunction<T, String> topicSelector;
        private ErrorPolicy errorPolicy = ErrorPolicy.fail();
        private DeliveryGuarantee guarantee = DeliveryGuarantee.EXACTLY_ONCE;
        private String transactionalIdPrefix;
        private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
        private int autoCreatePartitions;
        private boolean allowFeedbackLoop;
        private boolean preflight = true;
        private Duration preflightTimeout = KafkaPreflight.DEFAULT_TIMEOUT;
        private final Properties producerProperties = new Properties();
        private String uid;

        private Builder() {}

        /**
         * Operator uid of the sink (default {@code kafka-out-<topic>}, with {@code -2}, {@code -3}…
         * appended when another sink of the job already uses it).
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

        public Builder<T> setTopic(String topic) {
            checkArgument(topic != null && !topic.isBlank(), "topic must not be empty");
            this.topic = topic;
            return this;
        }

        /** The record key: a part of the element and how to write it. Default: no key. */
        public <K> Builder<T> setKey(SerializableFunction<T, K> extractor, Serde<K> serde) {
            checkArgument(
                    extractor != null && serde != null, "key extractor and serde must be set");
            this.keyExtractor = extractor;
            this.keySerde = serde;
            return this;
        }

        /** The record value: a part of the element (or the element) and how to write it. */
        public <V> Builder<T> setValue(SerializableFunction<T, V> extractor, Serde<V> serde) {
            checkArgument(
                    extractor != null && serde != null, "value extractor and serde must be set");
            this.valueExtractor = extractor;
            this.valueSerde = serde;
            return this;
        }

        /** Adds headers to each record. */
        public Builder<T> setHeaders(HeaderWriter<T> headerWriter) {
            checkArgument(headerWriter != null, "header writer must not be null");
            this.headerWriter = headerWriter;
            return this;
        }

        /**
         * The record timestamp (epoch millis) per element; {@code null} lets the producer set it.
         * Default: the element's Flink timestamp.
         */
        public Builder<T> setTimestamp(SerializableFunction<T, Long> timestampExtractor) {
            checkArgument(timestampExtractor != null, "timestamp extractor must not be null");
            this.timestampExtractor = timestampExtractor;
            return this;
        }

        /**
         * Picks the topic per element (default: {@link #setTopic}, which is still required: it is
         * the topic checked before start and the default).
         */
        public Builder<T> setTopicSelector(SerializableFunction<T, String> topicSelector) {
            checkArgument(topicSelector != null, "topic selector must not be null");
            this.topicSelector = topicSelector;
            return this;
        }

        /**
         * What happens to an element that cannot be written: an extractor or serde throws, or the
         * record is larger than the producer ({@code max.request.size}) and topic ({@code
         * max.message.bytes}) accept. Default {@link ErrorPolicy#fail()}. A dead letter carries the
         * key, the value (its first 1 KiB when too large; key and stack trace are cut so that the
         * dead letter itself fits) and {@code __fkk.errors.*} headers, and commits with the output.
         * The dead-letter topic is created with one partition before start when it is missing.
         */
        public Builder<T> setErrorPolicy(ErrorPolicy errorPolicy) {
            checkArgument(errorPolicy != null, "error policy must not be null");
            this.errorPolicy = errorPolicy;
            return this;
        }

        /** {@code EXACTLY_ONCE} (default), {@code AT_LEAST_ONCE} or {@code NONE}. */
        public Builder<T> setDeliveryGuarantee(DeliveryGuarantee guarantee) {
            checkArgument(guarantee != null, "delivery guarantee must not be null");
            this.guarantee = guarantee;
            return this;
        }

        /**
         * Prefix of the producers' transactional ids (exactly-once). Must be unique per sink across
         * all jobs on the cluster and stable across restarts of the same job, so lingering
         * transactions of a crashed run are aborted on the next start.
         */
        public Builder<T> setTransactionalIdPrefix(String prefix) {
            checkArgument(
                    prefix != null && !prefix.isBlank(),
                    "transactional id prefix must not be empty");
            this.transactionalIdPrefix = prefix;
            return this;
        }

        /** {@code transaction.timeout.ms} (default 10 min; must not exceed the broker maximum). */
        public Builder<T> setTransactionTimeout(Duration timeout) {
            checkArgument(
                    timeout != null && !timeout.isNegative() && !timeout.isZero(),
                    "transaction timeout must be positive");
            this.transactionTimeout = timeout;
            return this;
        }

        /** Creates the topic with this many partitions if it does not exist (default: refuse). */
        public Builder<T> setAutoCreateTopic(int partitions) {
            checkArgument(partitions > 0, "partitions must be positive, got " + partitions);
            this.autoCreatePartitions = partitions;
            return this;
        }

        /** Allows writing to a topic the same job reads (a deliberate loop). Default false. */
        public Builder<T> setAllowFeedbackLoop(boolean allow) {
            this.allowFeedbackLoop = allow;
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

        /** A producer property for this sink only (e.g. {@code compression.type}). */
        public Builder<T> setProperty(String name, String value) {
            checkArgument(name != null && value != null, "property name and value must be set");
            checkArgument(
                    !ProducerConfig.TRANSACTION_TIMEOUT_CONFIG.equals(name),
                    "use setTransactionTimeout(...) for transaction.timeout.ms");
            producerProperties.setProperty(name, value);
            return this;
        }

        public KafkaOut<T> build() {
            checkArgument(
                    connection != null,
                    "no connection: call setConnection(KafkaConnection.of(\"host:port\"))");
            checkArgument(topic != null, "no topic: call setTopic(\"topic\")");
            checkArgument(
                    valueExtractor != null,
                    "no value: call setValue(element -> element, Serdes.string())");
            return new KafkaOut<>(this);
        }
    }
}
