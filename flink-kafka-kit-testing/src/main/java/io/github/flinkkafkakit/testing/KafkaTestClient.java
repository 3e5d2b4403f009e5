package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Topic, produce and consume helpers for tests and for the examples' embedded mode. Bound to one
 * broker; every consumer it creates reads with {@code isolation.level=read_committed}, so what a
 * test sees is what a downstream exactly-once consumer would see.
 *
 * <pre>{@code
 * KafkaTestClient kafka = broker.client();
 * String topic = kafka.createUniqueTopic("counts", 3);
 * kafka.produce(topic, List.of(KeyValue.of("k", "v")));
 * Map<String, String> latest = kafka.latestValuePerKey(topic);
 * }</pre>
 */
@PublicEvolving
public final class KafkaTestClient implements AutoCloseable {

    private static final AtomicLong TOPIC_SEQUENCE = new AtomicLong();
    private static final Duration LEADER_WAIT = Duration.ofSeconds(30);

    /** How long {@link #consumeAll} waits for a record before it considers a topic drained. */
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(2);

    private final String bootstrapServers;
    private final Properties clientProperties;
    private Admin admin;

    public KafkaTestClient(String bootstrapServers, Properties clientProperties) {
        this.bootstrapServers = bootstrapServers;
        this.clientProperties = new Properties();
        this.clientProperties.putAll(clientProperties);
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** A topic name not used before in this JVM, e.g. {@code in-3-k2x9}. */
    public static String uniqueTopicName(String prefix) {
        return prefix
                + "-"
                + TOPIC_SEQUENCE.incrementAndGet()
                + "-"
                + Long.toString(System.nanoTime() & 0xffffff, 36).toLowerCase(Locale.ROOT);
    }

    /** Creates a uniquely named topic and waits until every partition has a leader. */
    public String createUniqueTopic(String prefix, int partitions) {
        String name = uniqueTopicName(prefix);
        createTopic(name, partitions);
        return name;
    }

    /** Creates a topic (replication factor 1) and waits until every partition has a leader. */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /**
     * Creates a topic with topic configs (e.g. {@code cleanup.policy=compact}) and waits until
     * every partition has a leader: producing before that can stall idempotent producers.
     */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        NewTopic topic = new NewTopic(name, partitions, (short) 1).configs(configs);
        try {
            admin().createTopics(List.of(topic))
                    .all()
                    .get(LEADER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Cannot create topic " + name + ": " + rootMessage(e), e);
        }
        waitForLeaders(name, partitions);
    }

    /** Waits until {@code topic} has {@code partitions} partitions, each with a leader. */
    public void waitForLeaders(String topic, int partitions) {
        long deadline = System.nanoTime() + LEADER_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription description =
                        admin().describeTopics(List.of(topic)).topicNameValues().get(topic).get();
                List<TopicPartitionInfo> infos = description.partitions();
                if (infos.size() == partitions
                        && infos.stream()
                                .allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    try (KafkaProducer<byte[], byte[]> probe = bytesProducer(false)) {
                        List<PartitionInfo> seen = probe.partitionsFor(topic);
                        if (seen.size() == partitions
                                && seen.stream().allMatch(p -> p.leader() != null)) {
                            return;
                        }
                    }
                }
            } catch (ExecutionException e) {
                // Topic metadata not propagated yet: retry below.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for " + topic, e);
            }
            sleep(50);
        }
        throw new IllegalStateException(
                "Partitions of "
                        + topic
                        + " have no leader after "
                        + LEADER_WAIT.toSeconds()
                        + " s");
    }

    /** Produces String key/value records (idempotent producer, all acks) and flushes. */
    public void produce(String topic, Collection<KeyValue<String, String>> records) {
        try (Batch batch = batch(topic)) {
            for (KeyValue<String, String> kv : records) {
                batch.send(kv.key(), kv.value());
            }
        }
    }

    /**
     * A batch of String records sent as they are added; {@link Batch#close()} flushes and fails
     * loudly if any record was not acknowledged.
     *
     * <pre>{@code
     * try (KafkaTestClient.Batch batch = kafka.batch("logs")) {
     *     batch.send("checkout", "{...}");
     * }
     * }</pre>
     */
    public Batch batch(String topic) {
        return new Batch(topic, stringProducer());
    }

    /** See {@link #batch(String)}. */
    public static final class Batch implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<String, String> producer;
        private final List<Future<RecordMetadata>> sent = new ArrayList<>();

        private Batch(String topic, KafkaProducer<String, String> producer) {
            this.topic = topic;
            this.producer = producer;
        }

        public void send(String key, String value) {
            sent.add(producer.send(new ProducerRecord<>(topic, key, value)));
        }

        /** Sends a record with an explicit timestamp (epoch ms), e.g. its event time. */
        public void send(String key, String value, long timestamp) {
            sent.add(producer.send(new ProducerRecord<>(topic, null, timestamp, key, value)));
        }

        @Override
        public void close() {
            try {
                producer.flush();
                checkAllSent(topic, sent);
            } finally {
                producer.close();
            }
        }
    }

    /** Fails loudly when any record was not acknowledged: a test must never lose input. */
    private static void checkAllSent(String topic, List<Future<RecordMetadata>> sent) {
        for (Future<RecordMetadata> f : sent) {
            try {
                f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException(
                        "Producing to " + topic + " failed: " + rootMessage(e), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while producing to " + topic, e);
            }
        }
    }

    /** Produces raw byte records (e.g. deliberately malformed input) and flushes. */
    public void produceBytes(String topic, Collection<KeyValue<byte[], byte[]>> records) {
        try (KafkaProducer<byte[], byte[]> producer = bytesProducer(true)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
            for (KeyValue<byte[], byte[]> kv : records) {
                sent.add(producer.send(new ProducerRecord<>(topic, kv.key(), kv.value())));
            }
            producer.flush();
            checkAllSent(topic, sent);
        }
    }

    /** A String producer tuned for bulk loading (idempotent, batched); the caller closes it. */
    public KafkaProducer<String, String> stringProducer() {
        Properties props = baseProperties();
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        patientUnderLoad(props);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /**
     * A plain transactional String producer with {@code initTransactions()} done, to write input
     * the way an upstream exactly-once job does (committed, aborted or still open transactions);
     * the caller closes it. {@code transactionalId} must be unique per producer.
     *
     * <pre>{@code
     * try (KafkaProducer<String, String> p = kafka.transactionalProducer("upstream-1")) {
     *     p.beginTransaction();
     *     p.send(new ProducerRecord<>(topic, "k", "v"));
     *     p.abortTransaction();
     * }
     * }</pre>
     */
    public KafkaProducer<String, String> transactionalProducer(String transactionalId) {
        Properties props = baseProperties();
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        patientUnderLoad(props);
        KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        try {
            producer.initTransactions();
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        return producer;
    }

    /**
     * The end offsets of every partition of {@code topic}, by partition: with {@code committed},
     * the last stable offsets ({@code read_committed} ends: before the first transaction not
     * complete yet), else the log end offsets.
     */
    public Map<Integer, Long> endOffsets(String topic, boolean committed) {
        try {
            TopicDescription description =
                    admin().describeTopics(List.of(topic)).topicNameValues().get(topic).get();
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (TopicPartitionInfo p : description.partitions()) {
                request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            }
            Map<Integer, Long> ends = new TreeMap<>();
            admin().listOffsets(
                            request,
                            new ListOffsetsOptions(
                                    committed
                                            ? IsolationLevel.READ_COMMITTED
                                            : IsolationLevel.READ_UNCOMMITTED))
                    .all()
                    .get(LEADER_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((tp, info) -> ends.put(tp.partition(), info.offset()));
            return ends;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Cannot read the end offsets of " + topic + ": " + rootMessage(e), e);
        }
    }

    /**
     * Waits until every transaction on {@code topic} is complete: the last stable offset of every
     * partition has reached its log end offset. {@code commitTransaction()} and {@code
     * abortTransaction()} return before the broker has written the transaction markers, and until
     * then the transaction's records (and every later one) are beyond the {@code read_committed}
     * end.
     */
    public void awaitTransactionsCompleted(String topic) {
        long deadline = System.nanoTime() + LEADER_WAIT.toNanos();
        while (true) {
            Map<Integer, Long> stable = endOffsets(topic, true);
            Map<Integer, Long> end = endOffsets(topic, false);
            if (stable.equals(end)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Transactions on "
                                + topic
                                + " still pending after "
                                + LEADER_WAIT.toSeconds()
                                + " s: last stable offsets "
                                + stable
                                + ", log end offsets "
                                + end);
            }
            sleep(50);
        }
    }

    private KafkaProducer<byte[], byte[]> bytesProducer(boolean idempotent) {
        Properties props = baseProperties();
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
        props.put(ProducerConfig.ACKS_CONFIG, idempotent ? "all" : "1");
        patientUnderLoad(props);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * On a loaded 2-core machine an in-process broker can take longer than the default 30 s request
     * timeout; a timed-out idempotent batch is then retried with reset sequence numbers, which the
     * broker rejects as out of order, forever. Waiting longer avoids the reset.
     */
    private static void patientUnderLoad(Properties props) {
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "120000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    }

    /**
     * Reads every committed record of {@code topic} from the beginning until no record arrives for
     * {@code idle} and the consumer has reached the end offsets ({@code read_committed}).
     */
    public List<ConsumerRecord<String, String>> consumeAll(String topic, Duration idle) {
        return consumeAll(topic, idle, new StringDeserializer(), new StringDeserializer());
    }

    /** {@link #consumeAll(String, Duration)} with {@link #DEFAULT_IDLE}. */
    public List<ConsumerRecord<String, String>> consumeAll(String topic) {
        return consumeAll(topic, DEFAULT_IDLE);
    }

    /** Like {@link #consumeAll(String, Duration)} but with raw bytes (headers included). */
    public List<ConsumerRecord<byte[], byte[]>> consumeAllBytes(String topic, Duration idle) {
        return consumeAll(topic, idle, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** {@link #consumeAllBytes(String, Duration)} with {@link #DEFAULT_IDLE}. */
    public List<ConsumerRecord<byte[], byte[]>> consumeAllBytes(String topic) {
        return consumeAllBytes(topic, DEFAULT_IDLE);
    }

    private <K, V> List<ConsumerRecord<K, V>> consumeAll(
            String topic,
            Duration idle,
            org.apache.kafka.common.serialization.Deserializer<K> keys,
            org.apache.kafka.common.serialization.Deserializer<V> values) {
        Properties props = baseProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<ConsumerRecord<K, V>> result = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long lastRecordAt = System.nanoTime();
            while (true) {
                ConsumerRecords<K, V> batch = consumer.poll(Duration.ofMillis(200));
                if (!batch.isEmpty()) {
                    batch.forEach(result::add);
                    lastRecordAt = System.nanoTime();
                    continue;
                }
                boolean idleLongEnough = System.nanoTime() - lastRecordAt >= idle.toNanos();
                if (idleLongEnough && reachedEnd(consumer, end)) {
                    return result;
                }
                if (System.nanoTime() - lastRecordAt
                        >= idle.toNanos() + Duration.ofSeconds(60).toNanos()) {
                    throw new IllegalStateException(
                            "Consumer of " + topic + " did not reach the end offsets " + end);
                }
            }
        }
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        // With read_committed the position can stop before a transaction marker; positions at or
        // past the end captured at start (or the LSO) mean everything committed so far was read.
        Map<TopicPartition, Long> nowEnd = consumer.endOffsets(end.keySet());
        for (TopicPartition tp : end.keySet()) {
            if (consumer.position(tp) < nowEnd.get(tp)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The last value of each key in {@code topic}, in first-seen key order ({@code
     * read_committed}).
     */
    public Map<String, String> latestValuePerKey(String topic) {
        return latestValuePerKey(topic, DEFAULT_IDLE);
    }

    /** Like {@link #latestValuePerKey(String)} with an explicit idle time. */
    public Map<String, String> latestValuePerKey(String topic, Duration idle) {
        Map<String, String> latest = new LinkedHashMap<>();
        for (ConsumerRecord<String, String> r : consumeAll(topic, idle)) {
            latest.put(r.key(), r.value());
        }
        return latest;
    }

    /** How many records carry each key (e.g. the expected count per key of an input topic). */
    public static <T> Map<T, Long> countBy(Collection<T> keys) {
        Map<T, Long> counts = new HashMap<>();
        for (T key : keys) {
            counts.merge(key, 1L, Long::sum);
        }
        return counts;
    }

    /** Same as {@link #countBy(Collection)} over a mapped collection. */
    public static <E, T> Map<T, Long> countBy(Collection<E> items, Function<E, T> key) {
        return countBy(items.stream().map(key).collect(Collectors.toList()));
    }

    /** An Admin client for this broker (shared; closed with this client). */
    public synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(baseProperties());
        }
        return admin;
    }

    private Properties baseProperties() {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return props;
    }

    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }
}
