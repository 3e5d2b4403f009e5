package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.core.count.internal.PreAggregateOperator;
import io.github.flinkkafkakit.core.count.internal.RunningCountOperator;
import io.github.flinkkafkakit.core.internal.DeterministicSerializers;
import io.github.flinkkafkakit.core.internal.JobGraph;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

import java.time.Duration;

/**
 * Counting operators with a fast path.
 *
 * <pre>{@code
 * DataStream<Tuple2<String, Long>> counts =
 *         Counts.perKey(keys)                              // one key per input record
 *                 .setEmitPolicy(EmitPolicy.ON_CHECKPOINT) // latest count per changed key
 *                 .setPreAggregation(10_000)               // combine before the shuffle
 *                 .build();
 * }</pre>
 *
 * <p>Counts are held in a compact table (an open-addressing {@code long[]} whose slots hold the
 * key's UTF-8 bytes inline, up to 11 of them, and its count); the per-record path touches no Flink
 * state and boxes nothing. The table reaches Flink's checkpoints once per checkpoint as raw keyed
 * state, per key group, so savepoints, restore and rescaling work as with any keyed state. Types
 * are Flink's own (no Kryo).
 */
@PublicEvolving
public final class Counts {

    /** The output type: {@code (key, running count)}. */
    public static final TypeInformation<Tuple2<String, Long>> KEY_COUNT =
            Types.TUPLE(Types.STRING, Types.LONG);

    private Counts() {}

    /**
     * A running count per key; each element of {@code keys} counts once for its key. {@code String}
     * keys take the fast path; keys of another type are counted by their serialized bytes, so their
     * serializer must be deterministic (integral numbers, strings, enums, dates, byte arrays, and
     * tuples, rows or POJOs of those; checked when the job is built).
     */
    public static <K> RunningCount<K> perKey(DataStream<K> keys) {
        return new RunningCount<>(keys);
    }

    /**
     * Counts per key and event-time window; {@code keys} must carry timestamps and watermarks (e.g.
     * {@code KafkaIn.Builder#setWatermarks}).
     */
    public static WindowedCounts.Builder windowed(DataStream<String> keys) {
        return new WindowedCounts.Builder(keys);
    }

    /** Builder of a running count. */
    @PublicEvolving
    public static final class RunningCount<K> {
        private final DataStream<K> keys;
        private EmitPolicy emitPolicy = EmitPolicy.EVERY_RECORD;
        private Duration emitInterval = Duration.ZERO;
        private int preAggregation;
        private String name = "running count";
        private String uid; // default fkk-running-count, made unique in the job

        private RunningCount(DataStream<K> keys) {
            this.keys = keys;
        }

        /**
         * {@link EmitPolicy#EVERY_RECORD} (default: identical to the hand-written {@code keyBy +
         * ValueState} job) or {@link EmitPolicy#ON_CHECKPOINT} (the latest count of each changed
         * key before each checkpoint barrier and at end of input). Without checkpointing and
         * without an emit interval, {@code ON_CHECKPOINT} emits only at end of input.
         */
        public RunningCount<K> setEmitPolicy(EmitPolicy emitPolicy) {
            if (emitPolicy == null) {
                throw new IllegalArgumentException("emit policy must not be null");
            }
            this.emitPolicy = emitPolicy;
            return this;
        }

        /** With {@code ON_CHECKPOINT}: also emit changed counts this often (processing time). */
        public RunningCount<K> setEmitInterval(Duration interval) {
            if (interval == null || interval.isNegative()) {
                throw new IllegalArgumentException("emit interval must be zero or positive");
            }
            this.emitInterval = interval;
            return this;
        }

        /**
         * Combines counts per key before the shuffle in a table of at most {@code maxKeys} keys,
         * flushed when full, before each checkpoint barrier and at end of input. Only with {@code
         * ON_CHECKPOINT} (it changes the per-record output of {@code EVERY_RECORD}).
         */
        public RunningCount<K> setPreAggregation(int maxKeys) {
            if (maxKeys <= 0) {
                throw new IllegalArgumentException("maxKeys must be positive, got " + maxKeys);
            }
            this.preAggregation = maxKeys;
            return this;
        }

        public RunningCount<K> setName(String name) {
            this.name = name;
            return this;
        }

        /**
         * Operator uid (default {@code fkk-running-count}, with {@code -2}, {@code -3}… appended
         * for further counts of the job); keep it stable for savepoints.
         */
        public RunningCount<K> setUid(String uid) {
            if (uid == null || uid.isBlank()) {
                throw new IllegalArgumentException("uid must not be empty");
            }
            this.uid = uid;
            return this;
        }

        @SuppressWarnings("unchecked")
        public SingleOutputStreamOperator<Tuple2<K, Long>> build() {
            if (preAggregation > 0 && emitPolicy == EmitPolicy.EVERY_RECORD) {
                throw new IllegalStateException(
                        "pre-aggregation changes the per-record output: use"
                                + " setEmitPolicy(EmitPolicy.ON_CHECKPOINT) with it");
            }
            if (uid == null) {
                uid =
                        JobGraph.of(keys.getExecutionEnvironment(), keys)
                                .uniqueUid("fkk-running-count");
            }
            TypeInformation<K> keyType = keys.getType();
            if (!Types.STRING.equals(keyType)) {
                return buildSerialized(keyType);
            }
            DataStream<String> strings = (DataStream<String>) keys;
            if (preAggregation > 0) {
                DataStream<Tuple2<String, Long>> partial =
                        strings.transform(
                                        name + " (pre-aggregate)",
                                        KEY_COUNT,
                                        new PreAggregateOperator(preAggregation))
                                .uid(uid + "-pre-aggregate");
                return (SingleOutputStreamOperator<Tuple2<K, Long>>)
                        (SingleOutputStreamOperator<?>)
                                partial.keyBy(t -> t.f0, Types.STRING)
                                        .transform(
                                                name,
                                                KEY_COUNT,
                                                new RunningCountOperator<
                                                        Tuple2<String, Long>, String>(
                                                        emitPolicy, emitInterval.toMillis(), true))
                                        .uid(uid);
            }
            return (SingleOutputStreamOperator<Tuple2<K, Long>>)
                    (SingleOutputStreamOperator<?>)
                            strings.keyBy(k -> k, Types.STRING)
                                    .transform(
                                            name,
                                            KEY_COUNT,
                                            new RunningCountOperator<String, String>(
                                                    emitPolicy, emitInterval.toMillis(), false))
                                    .uid(uid);
        }

        private SingleOutputStreamOperator<Tuple2<K, Long>> buildSerialized(
                TypeInformation<K> keyType) {
            if (preAggregation > 0) {
                throw new IllegalStateException(
                        "pre-aggregation counts String keys only, these are "
                                + keyType
                                + ": drop setPreAggregation or count String keys");
            }
            TypeSerializer<K> serializer =
                    keyType.createSerializer(keys.getExecutionConfig().getSerializerConfig());
            String problem = DeterministicSerializers.problem(serializer);
            if (problem != null) {
                throw new IllegalArgumentException(
                        "Counts.perKey compares keys by their serialized bytes, and for keys of "
                                + keyType
                                + " "
                                + problem
                                + " deterministic: count by a String, an integral number, or a"
                                + " tuple or POJO of those");
            }
            return keys.keyBy(k -> k, keyType)
                    .transform(
                            name,
                            Types.TUPLE(keyType, Types.LONG),
                            new RunningCountOperator<K, K>(
                                    emitPolicy, emitInterval.toMillis(), false, serializer))
                    .uid(uid);
        }
    }
}
