package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.errors.FailureHandler;
import io.github.flinkkafkakit.core.errors.Stage;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.ArrayList;

/**
 * Wraps a user deserializer so a record that cannot be read follows the {@link ErrorPolicy} instead
 * of failing the job (or, for {@code fail()}, fails it once with the record's position, without
 * restarts).
 *
 * <ul>
 *   <li>{@link #plain}: emits the values; failed records are skipped or fail the job;
 *   <li>{@link #withDeadLetters}: emits {@code Either.Left(value)} and {@code
 *       Either.Right(deadLetter)}, split later by {@link DeadLetterSplitter}.
 * </ul>
 */
@Internal
public abstract class GuardedDeserializer<T, O> implements KafkaRecordDeserializationSchema<O> {

    private static final long serialVersionUID = 1L;

    protected final KafkaRecordDeserializationSchema<T> inner;
    private final FailureHandler failures;
    private transient Buffer<T> buffer;

    GuardedDeserializer(KafkaRecordDeserializationSchema<T> inner, ErrorPolicy policy) {
        this.inner = inner;
        this.failures = new FailureHandler(policy, Stage.DESERIALIZE);
    }

    /** Values only; the policy must not be dead-letter. */
    public static <T> GuardedDeserializer<T, T> plain(
            KafkaRecordDeserializationSchema<T> inner, ErrorPolicy policy) {
        if (policy.action() == ErrorPolicy.Action.DEAD_LETTER) {
            throw new IllegalArgumentException("use withDeadLetters for " + policy);
        }
        return new Plain<>(inner, policy);
    }

    /** Values and dead letters. */
    public static <T> GuardedDeserializer<T, Either<T, DeadLetter>> withDeadLetters(
            KafkaRecordDeserializationSchema<T> inner, ErrorPolicy policy) {
        return new WithDeadLetters<>(inner, policy);
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        inner.open(context);
        failures.open(context.getMetricGroup());
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<O> out) {
        if (buffer == null) {
            buffer = new Buffer<>();
        }
        buffer.clear();
        try {
            inner.deserialize(record, buffer);
        } catch (Exception | StackOverflowError e) {
            String where = record.topic() + "-" + record.partition() + "@" + record.offset();
            if (failures.onFailure(where, e) == ErrorPolicy.Action.DEAD_LETTER) {
                emitDeadLetter(DeadLetter.of(record, Stage.DESERIALIZE, e), out);
            }
            return;
        }
        failures.onSuccess();
        for (int i = 0; i < buffer.size(); i++) {
            emitValue(buffer.get(i), out);
        }
    }

    abstract void emitValue(T value, Collector<O> out);

    abstract void emitDeadLetter(DeadLetter deadLetter, Collector<O> out);

    private static final class Plain<T> extends GuardedDeserializer<T, T> {
        private static final long serialVersionUID = 1L;

        Plain(KafkaRecordDeserializationSchema<T> inner, ErrorPolicy policy) {
            super(inner, policy);
        }

        @Override
        void emitValue(T value, Collector<T> out) {
            out.collect(value);
        }

        @Override
        void emitDeadLetter(DeadLetter deadLetter, Collector<T> out) {
            throw new IllegalStateException("no dead-letter topic configured");
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return inner.getProducedType();
        }
    }

    private static final class WithDeadLetters<T>
            extends GuardedDeserializer<T, Either<T, DeadLetter>> {
        private static final long serialVersionUID = 1L;

        WithDeadLetters(KafkaRecordDeserializationSchema<T> inner, ErrorPolicy policy) {
            super(inner, policy);
        }

        @Override
        void emitValue(T value, Collector<Either<T, DeadLetter>> out) {
            out.collect(Either.Left(value));
        }

        @Override
        void emitDeadLetter(DeadLetter deadLetter, Collector<Either<T, DeadLetter>> out) {
            out.collect(Either.Right(deadLetter));
        }

        @Override
        public TypeInformation<Either<T, DeadLetter>> getProducedType() {
            return new EitherTypeInfo<>(
                    inner.getProducedType(), TypeInformation.of(DeadLetter.class));
        }
    }

    /** Collects what the inner deserializer emits for one record. */
    private static final class Buffer<T> extends ArrayList<T> implements Collector<T> {
        private static final long serialVersionUID = 1L;

        @Override
        public void collect(T record) {
            add(record);
        }

        @Override
        public void close() {}
    }
}
