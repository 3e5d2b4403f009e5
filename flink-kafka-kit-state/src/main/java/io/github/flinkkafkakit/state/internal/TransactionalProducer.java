package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.ProducerIdAndEpoch;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A transactional Kafka producer with one fixed transactional id, and the only place the kit relies
 * on Kafka producer internals: resuming a transaction that another producer (a failed attempt of
 * the job) pre-committed, to commit it. That goes through the Flink Kafka connector's {@link
 * FlinkKafkaInternalProducer}, which sets the producer id and epoch by reflection (as the
 * connector's own sink does on recovery). {@code TransactionalProducerITCase} pins what this relies
 * on against a real broker: a resumed transaction commits, a resumed commit after a fence fails
 * with {@link #isFenced fenced}, and a transaction the broker aborted cannot be committed.
 */
@Internal
public final class TransactionalProducer implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final String transactionalId;

    private TransactionalProducer(Properties properties, String transactionalId) {
        this.producer =
                new KafkaProducer<>(
                        withTransactionalId(properties, transactionalId),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
        this.transactionalId = transactionalId;
    }

    private static Properties withTransactionalId(Properties properties, String transactionalId) {
        Properties props = new Properties();
        props.putAll(properties);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        return props;
    }

    /**
     * A producer for {@code transactionalId} (not yet fenced: call {@link #fence()} before a first
     * transaction).
     */
    public static TransactionalProducer create(Properties properties, String transactionalId) {
        return new TransactionalProducer(properties, transactionalId);
    }

    public String transactionalId() {
        return transactionalId;
    }

    /**
     * Takes over the transactional id ({@code initTransactions}): a transaction an earlier holder
     * of the id left open is aborted, one whose commit had begun is awaited, and the earlier holder
     * can no longer write or commit.
     */
    public void fence() {
        producer.initTransactions();
    }

    /**
     * {@link #fence() Fences} each of {@code producers}, side by side when there are several: each
     * take-over waits on the broker (for what an earlier holder of its id left), and no id's
     * take-over depends on another's, so a start fences its ids in the time of one. Throws the
     * first failure (the others suppressed in it) once all have returned.
     */
    public static void fenceAll(List<TransactionalProducer> producers) {
        if (producers.size() <= 1) {
            producers.forEach(TransactionalProducer::fence);
            return;
        }
        // any Throwable: a fence thread that died of an Error must not pass for a fenced id
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (TransactionalProducer producer : producers) {
            Thread thread =
                    new Thread(
                            () -> {
                                try {
                                    producer.fence();
                                } catch (Throwable e) {
                                    if (!failure.compareAndSet(null, e)) {
                                        failure.get().addSuppressed(e);
                                    }
                                }
                            },
                            "fkk-fence-" + producer.transactionalId);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        try {
            for (Thread thread : threads) {
                thread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(e);
        }
        if (failure.get() != null) {
            ExceptionUtils.rethrow(failure.get()); // as thrown; wrapped only if checked
        }
    }

    public void begin() {
        producer.beginTransaction();
    }

    public void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
        producer.send(record, callback);
    }

    /**
     * Sends what is buffered and registers every partition written with the transaction, so a
     * producer that {@linkplain #resumeAndCommit resumes} it commits all of them.
     */
    public void preCommit() {
        producer.flush();
    }

    public long producerId() {
        return producerIdAndEpoch().producerId;
    }

    public short epoch() {
        return producerIdAndEpoch().epoch;
    }

    /** The producer id and epoch of the producer's transaction manager (by reflection). */
    private ProducerIdAndEpoch producerIdAndEpoch() {
        try {
            Field manager = KafkaProducer.class.getDeclaredField("transactionManager");
            manager.setAccessible(true);
            Object transactions = manager.get(producer);
            Method current = transactions.getClass().getDeclaredMethod("producerIdAndEpoch");
            current.setAccessible(true);
            return (ProducerIdAndEpoch) current.invoke(transactions);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Incompatible kafka-clients version: cannot read the producer id and epoch of"
                            + " a transaction",
                    e);
        }
    }

    public void commit() {
        producer.commitTransaction();
    }

    public void abort() {
        producer.abortTransaction();
    }

    /**
     * Commits a transaction that a producer with {@code transactionalId}, {@code producerId} and
     * {@code epoch} {@linkplain #preCommit pre-committed} (typically in an attempt of the job that
     * failed before its commit).
     *
     * @throws RuntimeException when Kafka refuses: {@link #isFenced} tells whether the id was taken
     *     over (or the transaction already ended) since
     */
    public static void resumeAndCommit(
            Properties properties, String transactionalId, long producerId, short epoch) {
        FlinkKafkaInternalProducer<byte[], byte[]> resumed =
                new FlinkKafkaInternalProducer<>(
                        withTransactionalId(properties, transactionalId), transactionalId);
        try {
            resumed.resumeTransaction(producerId, epoch);
            resumed.commitTransaction();
        } finally {
            resumed.close(Duration.ZERO);
        }
    }

    /**
     * Whether {@code failure} says the transactional id was taken over by another producer (or a
     * transaction's producer epoch is no longer current): writing or committing with it cannot
     * succeed again.
     */
    public static boolean isFenced(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException
                    || t instanceof InvalidProducerEpochException
                    || t instanceof InvalidPidMappingException
                    || t instanceof InvalidTxnStateException) {
                return true;
            }
            if (t instanceof TransactionalIdAuthorizationException) {
                return false;
            }
        }
        return false;
    }

    @Override
    public void close() {
        producer.close(Duration.ZERO);
    }

    @Override
    public String toString() {
        return "TransactionalProducer{" + transactionalId + "}";
    }
}
