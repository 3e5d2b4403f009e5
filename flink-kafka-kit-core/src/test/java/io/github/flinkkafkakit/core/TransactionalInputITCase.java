package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Input written by an upstream exactly-once job (Kafka transactions, some aborted): the source
 * reads {@code read_committed} by default, so aborted records are never processed; an explicit
 * {@code isolation.level} is kept. A bounded source stops at the last stable offset also when a
 * partition ends with an aborted or a still open transaction.
 */
class TransactionalInputITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** A bounded job that does not finish in this time hangs. */
    private static final long JOB_TIMEOUT_S = 90;

    static final Queue<String> SEEN = new ConcurrentLinkedQueue<>();

    @AfterEach
    void clear() {
        SEEN.clear();
    }

    /** Adds to {@link #SEEN} (a static reference: the function itself is serialized). */
    public static final class Collect implements MapFunction<String, Boolean> {
        @Override
        public Boolean map(String value) {
            return SEEN.add(value);
        }
    }

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        return env;
    }

    private static KafkaIn.Builder<String> source(KafkaConnection connection, String topic) {
        return KafkaIn.<String>builder()
                .setConnection(connection)
                .setTopics(topic)
                .setStartingOffsetsEarliest()
                .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                .setBounded(true);
    }

    private static KafkaIn.Builder<String> source(String topic) {
        return source(KafkaConnection.of(KAFKA.bootstrapServers()), topic);
    }

    /** Runs a bounded source to its end and returns what it emitted; fails if it hangs. */
    private static List<String> readBounded(KafkaIn<String> in) throws Exception {
        StreamExecutionEnvironment env = env();
        in.createStream(env).map(new Collect(), Types.BOOLEAN).sinkTo(new DiscardingSink<>());
        JobClient job = env.executeAsync("bounded " + in.topics());
        try {
            job.getJobExecutionResult().get(JOB_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            job.cancel().get();
            fail(
                    "the bounded source did not finish within %d s (stopping offsets %s); saw %s",
                    JOB_TIMEOUT_S, in.stoppingOffsets(), SEEN);
        }
        return new ArrayList<>(SEEN);
    }

    private static void inTransaction(
            KafkaProducer<String, String> producer,
            boolean commit,
            String topic,
            int partition,
            String... values) {
        producer.beginTransaction();
        for (String v : values) {
            producer.send(new ProducerRecord<>(topic, partition, "k", v));
        }
        // Written to the log before the transaction ends: abortTransaction() drops unsent records.
        producer.flush();
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.abortTransaction();
        }
    }

    /**
     * Partition 0: committed, aborted, committed, and an aborted transaction as its very last
     * content (its abort marker is the last offset). Partition 1: a plain (non-transactional)
     * record, an aborted and a committed transaction.
     */
    private static String topicWithAbortedTransactions() {
        KafkaTestClient kafka = KAFKA.client();
        String topic = kafka.createUniqueTopic("txn-in", 2);
        try (KafkaProducer<String, String> upstream =
                        kafka.transactionalProducer("upstream-" + topic);
                KafkaProducer<String, String> plain = kafka.stringProducer()) {
            inTransaction(upstream, true, topic, 0, "c1", "c2", "c3");
            inTransaction(upstream, false, topic, 0, "aborted-1", "aborted-2");
            inTransaction(upstream, true, topic, 0, "c4", "c5");
            plain.send(new ProducerRecord<>(topic, 1, "k", "plain-1")).get();
            inTransaction(upstream, false, topic, 1, "aborted-3");
            inTransaction(upstream, true, topic, 1, "c6");
            inTransaction(upstream, false, topic, 0, "aborted-last-1", "aborted-last-2");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        // Transaction markers are written after commit/abort return: wait for them, so the
        // bounded source's end (the last stable offset) is behind the last transaction.
        kafka.awaitTransactionsCompleted(topic);
        // Each transaction wrote its records and a marker: the aborted records are in the log.
        assertThat(kafka.endOffsets(topic, true))
                .isEqualTo(Map.of(0, 4L + 3 + 3 + 3, 1, 1L + 2 + 2));
        return topic;
    }

    private static final String[] COMMITTED = {"c1", "c2", "c3", "c4", "c5", "c6", "plain-1"};
    private static final String[] ABORTED = {
        "aborted-1", "aborted-2", "aborted-3", "aborted-last-1", "aborted-last-2"
    };

    @Test
    void shouldReadOnlyCommittedRecordsByDefault() throws Exception {
        String topic = topicWithAbortedTransactions();

        List<String> seen = readBounded(source(topic).build());

        assertThat(seen).containsExactlyInAnyOrder(COMMITTED);
    }

    @Test
    void shouldKeepAnExplicitReadUncommittedOfTheSource() throws Exception {
        String topic = topicWithAbortedTransactions();

        List<String> seen =
                readBounded(
                        source(topic).setProperty("isolation.level", "read_uncommitted").build());

        List<String> all = new ArrayList<>(List.of(COMMITTED));
        all.addAll(List.of(ABORTED));
        assertThat(seen).containsExactlyInAnyOrderElementsOf(all);
    }

    @Test
    void shouldKeepAnExplicitReadUncommittedOfTheConnection() throws Exception {
        String topic = topicWithAbortedTransactions();
        KafkaConnection uncommitted =
                KafkaConnection.builder()
                        .setBootstrapServers(KAFKA.bootstrapServers())
                        .setProperty("isolation.level", "read_uncommitted")
                        .build();

        List<String> seen = readBounded(source(uncommitted, topic).build());

        assertThat(seen).containsAll(List.of(ABORTED)).hasSize(COMMITTED.length + ABORTED.length);
    }

    @Test
    void shouldLetTheSourceOverrideTheConnectionsIsolationLevel() throws Exception {
        String topic = topicWithAbortedTransactions();
        KafkaConnection uncommitted =
                KafkaConnection.builder()
                        .setBootstrapServers(KAFKA.bootstrapServers())
                        .setProperty("isolation.level", "read_uncommitted")
                        .build();

        List<String> seen =
                readBounded(
                        source(uncommitted, topic)
                                .setProperty("isolation.level", "read_committed")
                                .build());

        assertThat(seen).containsExactlyInAnyOrder(COMMITTED);
    }

    /**
     * A transaction still open when the job starts: the bounded source stops at the last stable
     * offset (where the open transaction begins) and finishes, without the records committed by
     * others after that point, instead of waiting for the transaction to end.
     */
    @Test
    void shouldFinishBeforeATransactionThatIsStillOpen() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String topic = kafka.createUniqueTopic("txn-open", 1);
        try (KafkaProducer<String, String> upstream =
                        kafka.transactionalProducer("upstream-" + topic);
                KafkaProducer<String, String> other =
                        kafka.transactionalProducer("other-" + topic)) {
            inTransaction(upstream, true, topic, 0, "c1", "c2");
            inTransaction(upstream, false, topic, 0, "aborted-1");
            upstream.beginTransaction();
            upstream.send(new ProducerRecord<>(topic, 0, "k", "open-1")).get();
            inTransaction(other, true, topic, 0, "after-open");
            // c1 c2 (marker) aborted-1 (marker) | open-1 after-open (marker): the read_committed
            // end is where the open transaction begins, once the earlier markers are written.
            awaitLastStableOffset(kafka, topic, 5L);
            assertThat(kafka.endOffsets(topic, false)).isEqualTo(Map.of(0, 8L));

            List<String> seen = readBounded(source(topic).build());

            assertThat(seen).containsExactly("c1", "c2");
            upstream.abortTransaction();
        }
    }

    private static void awaitLastStableOffset(KafkaTestClient kafka, String topic, long offset)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!kafka.endOffsets(topic, true).equals(Map.of(0, offset))) {
            if (System.nanoTime() > deadline) {
                fail(
                        "last stable offset of %s: %s, expected %d",
                        topic, kafka.endOffsets(topic, true), offset);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void shouldWarnOnceWhenAnExactlyOnceJobReadsUncommitted() throws Exception {
        String topic = KAFKA.client().createUniqueTopic("txn-warn", 1);

        String warned =
                warningsOf(
                        env -> {
                            env.enableCheckpointing(1000, CheckpointingMode.EXACTLY_ONCE);
                            source(topic)
                                    .setProperty("isolation.level", "read_uncommitted")
                                    .build()
                                    .createStream(env);
                        });

        assertThat(warned.lines().filter(l -> l.contains("read_uncommitted")).count())
                .as(warned)
                .isEqualTo(1);
        assertThat(warned)
                .contains("aborted transactions")
                .contains("isolation.level")
                .contains("read_committed");
    }

    @Test
    void shouldNotWarnByDefaultOrWithoutExactlyOnce() throws Exception {
        String topic = KAFKA.client().createUniqueTopic("txn-nowarn", 1);

        String byDefault =
                warningsOf(
                        env -> {
                            env.enableCheckpointing(1000, CheckpointingMode.EXACTLY_ONCE);
                            source(topic).build().createStream(env);
                        });
        String atLeastOnce =
                warningsOf(
                        env -> {
                            env.enableCheckpointing(1000, CheckpointingMode.AT_LEAST_ONCE);
                            source(topic)
                                    .setProperty("isolation.level", "read_uncommitted")
                                    .build()
                                    .createStream(env);
                        });

        assertThat(byDefault).isEmpty();
        assertThat(atLeastOnce).isEmpty();
    }

    /** The WARN lines {@link KafkaIn} logs while {@code build} runs. */
    private static String warningsOf(Consumer<StreamExecutionEnvironment> build) {
        StringWriter text = new StringWriter();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        WriterAppender appender =
                WriterAppender.newBuilder()
                        .setName("capture-kafka-in")
                        .setTarget(text)
                        .setLayout(PatternLayout.newBuilder().withPattern("%p %m%n").build())
                        .build();
        appender.start();
        String name = KafkaIn.class.getName();
        LoggerConfig logger = new LoggerConfig(name, Level.WARN, true);
        context.getConfiguration().addLogger(name, logger);
        logger.addAppender(appender, Level.WARN, null);
        context.updateLoggers();
        try {
            build.accept(env());
        } finally {
            context.getConfiguration().removeLogger(name);
            context.updateLoggers();
            appender.stop();
        }
        return text.toString();
    }
}
