package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.internal.DeadLetterSink;
import io.github.flinkkafkakit.core.internal.GuardedFunction;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.OutputTag;

import java.time.Duration;

import static io.github.flinkkafkakit.core.KafkaConnection.checkArgument;

/**
 * Runs user functions under an {@link ErrorPolicy} (stage {@code PROCESS}): an element whose
 * function throws is skipped, logged, written to a dead-letter topic, or fails the job once without
 * restarts — the same as records that cannot be deserialized, with the same metrics ({@code
 * fkk.errors.skipped|logged|deadLettered}) and {@link
 * io.github.flinkkafkakit.core.errors.ErrorBudget error budget}.
 *
 * <pre>{@code
 * Guard guard = Guard.builder()
 *         .setErrorPolicy(ErrorPolicy.deadLetter("orders-dlq"))
 *         .setConnection(kafka)                  // where dead letters go
 *         .build();
 * DataStream<Order> orders =
 *         guard.map(lines, "parse orders", Order::parse, TypeInformation.of(Order.class));
 * }</pre>
 *
 * <p>A dead letter carries the {@code __fkk.errors.*} headers with stage {@code PROCESS}. For a
 * {@link KafkaRecord} element it keeps the record's headers, topic, partition, offset and
 * timestamp, and its key and value as bytes ({@code byte[]} as is, else the UTF-8 text of {@code
 * String.valueOf}, which for strings and {@code JsonNode}s is the original text); for any other
 * element the value is the UTF-8 text of {@code String.valueOf(element)}. Dead letters are written
 * exactly-once when the job checkpoints exactly-once, else at-least-once. Whatever a flat-map
 * function emitted before it threw is dropped.
 */
@PublicEvolving
public final class Guard {

    private final ErrorPolicy policy;
    private final KafkaConnection connection;
    private final String transactionalIdPrefix;
    private final boolean preflight;
    private final Duration preflightTimeout;

    private Guard(Builder b) {
        this.policy = b.policy;
        this.connection = b.connection;
        this.transactionalIdPrefix = b.transactionalIdPrefix;
        this.preflight = b.preflight;
        this.preflightTimeout = b.preflightTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A guard with a policy that needs no Kafka connection: skip, log or fail. */
    public static Guard of(ErrorPolicy policy) {
        return builder().setErrorPolicy(policy).build();
    }

    /**
     * {@code fn} applied to each element of {@code in} under the policy.
     *
     * @param name names the operator (uid {@code guard-<name>}) and appears in log lines
     */
    public <T, R> SingleOutputStreamOperator<R> map(
            DataStream<T> in, String name, MapFunction<T, R> fn, TypeInformation<R> resultType) {
        checkArgument(fn != null, "map function must not be null");
        return flatMap(in, name, GuardedFunction.asFlatMap(fn), resultType);
    }

    /** Like {@link #map(DataStream, String, MapFunction, TypeInformation)} with a class. */
    public <T, R> SingleOutputStreamOperator<R> map(
            DataStream<T> in, String name, MapFunction<T, R> fn, Class<R> resultType) {
        return map(in, name, fn, TypeInformation.of(resultType));
    }

    /** {@code fn} applied to each element of {@code in} under the policy (0..n results each). */
    public <T, R> SingleOutputStreamOperator<R> flatMap(
            DataStream<T> in,
            String name,
            FlatMapFunction<T, R> fn,
            TypeInformation<R> resultType) {
        checkArgument(in != null, "input stream must not be null");
        checkArgument(name != null && !name.isBlank(), "name must not be empty");
        checkArgument(fn != null, "flat-map function must not be null");
        checkArgument(resultType != null, "result type must not be null");
        boolean deadLetter = policy.action() == ErrorPolicy.Action.DEAD_LETTER;
        OutputTag<DeadLetter> tag =
                deadLetter
                        ? new OutputTag<>(
                                "guard-dead-letters", TypeInformation.of(DeadLetter.class))
                        : null;
        SingleOutputStreamOperator<R> out =
                in.process(new GuardedFunction<>(fn, policy, tag, name), resultType)
                        .name(name)
                        .uid("guard-" + name);
        if (deadLetter) {
            String dlq = policy.deadLetterTopic();
            DeadLetterSink.write(
                    out.getSideOutput(tag),
                    connection,
                    dlq,
                    transactionalIdPrefix != null
                            ? transactionalIdPrefix + "-" + name
                            : "fkk-dlq-guard-" + name + "-" + dlq,
                    preflight,
                    preflightTimeout,
                    "guard-" + name + "-dead-letters");
        }
        return out;
    }

    /** Like {@link #flatMap(DataStream, String, FlatMapFunction, TypeInformation)} with a class. */
    public <T, R> SingleOutputStreamOperator<R> flatMap(
            DataStream<T> in, String name, FlatMapFunction<T, R> fn, Class<R> resultType) {
        return flatMap(in, name, fn, TypeInformation.of(resultType));
    }

    public ErrorPolicy errorPolicy() {
        return policy;
    }

    @Override
    public String toString() {
        return "Guard{policy=" + policy + "}";
    }

    /** Builder of {@link Guard}. */
    @PublicEvolving
    public static final class Builder {
        private ErrorPolicy policy = ErrorPolicy.fail();
        private KafkaConnection connection;
        private String transactionalIdPrefix;
        private boolean preflight = true;
        private Duration preflightTimeout = KafkaPreflight.DEFAULT_TIMEOUT;

        private Builder() {}

        /** What happens to an element whose function throws (default {@link ErrorPolicy#fail}). */
        public Builder setErrorPolicy(ErrorPolicy policy) {
            checkArgument(policy != null, "error policy must not be null");
            this.policy = policy;
            return this;
        }

        /** The cluster of the dead-letter topic (needed for a dead-letter policy). */
        public Builder setConnection(KafkaConnection connection) {
            checkArgument(connection != null, "connection must not be null");
            this.connection = connection;
            return this;
        }

        /**
         * Prefix of the exactly-once dead-letter sinks' transactional ids; each guarded step adds
         * {@code -<name>} (default {@code fkk-dlq-guard-<name>-<dead-letter topic>}).
         */
        public Builder setTransactionalIdPrefix(String prefix) {
            checkArgument(prefix != null && !prefix.isBlank(), "prefix must not be empty");
            this.transactionalIdPrefix = prefix;
            return this;
        }

        /** Turns the cluster checks of the dead-letter sink off (default on). */
        public Builder setPreflight(boolean enabled) {
            this.preflight = enabled;
            return this;
        }

        /** How long the dead-letter sink's checks may wait for the cluster (default 15 s). */
        public Builder setPreflightTimeout(Duration timeout) {
            checkArgument(
                    timeout != null && !timeout.isNegative() && !timeout.isZero(),
                    "preflight timeout must be positive");
            this.preflightTimeout = timeout;
            return this;
        }

        public Guard build() {
            checkArgument(
                    policy.action() != ErrorPolicy.Action.DEAD_LETTER || connection != null,
                    "a dead-letter policy needs the Kafka cluster: call"
                            + " setConnection(KafkaConnection.of(\"host:port\"))");
            return new Guard(this);
        }
    }
}
