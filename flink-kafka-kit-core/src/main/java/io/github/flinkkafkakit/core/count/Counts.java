package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.core.count.internal.PreAggregateOperator;
import io.github.flinkkafkakit.core.count.internal.RunningCountOperator;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
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

    /** A running count per key; each element of {@code keys} counts once for its key. */
    public static RunningCount perKey(DataStream<String> keys) {
        return new RunningCount(keys);
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
    public static final class RunningCount {
        private final DataStream<String> keys;
        private EmitPolicy emitPolicy = EmitPolicy.EVERY_RECORD;
        private Duration emitInterval = Duration.ZERO;
        private int preAggregation;
        private String name = "running count";
        private String uid = "fkk-running-count";

        private RunningCount(DataStream<String> keys) {
            this.keys = keys;
        }

        /**
         * {@link EmitPolicy#EVERY_RECORD} (default: identical to the hand-written {@code keyBy +
         * ValueState} job) or {@link EmitPolicy#ON_CHECKPOINT} (the latest count of each changed
         * key before each checkpoint barrier and at end of input). Without checkpointing and
         * without an emit interval, {@code ON_CHECKPOINT} emits only at end of input.
         */
        public RunningCount setEmitPolicy(EmitPolicy emitPolicy) {
            if (emitPolicy == null) {
                throw new IllegalArgumentException("emit policy must not be null");
            }
            this.emitPolicy = emitPolicy;
            return this;
        }

        /** With {@code ON_CHECKPOINT}: also emit changed counts this often (processing time). */
        public RunningCount setEmitInterval(Duration interval) {
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
        public RunningCount setPreAggregation(int maxKeys) {
            if (maxKeys <= 0) {
                throw new IllegalArgumentException("maxKeys must be positive, got " + maxKeys);
            }
            this.preAggregation = maxKeys;
            return this;
        }

        public RunningCount setName(String name) {
            this.name = name;
            return this;
        }

        /** Operator uid (default {@code fkk-running-count}); keep it stable for savepoints. */
        public RunningCount setUid(String uid) {
            this.uid = uid;
            return this;
        }

        public SingleOutputStreamOperator<Tuple2<String, Long>> build() {
            if (preAggregation > 0 && emitPolicy == EmitPolicy.EVERY_RECORD) {
                throw new IllegalStateException(
                        "pre-aggregation changes the per-record output: use"
                                + " setEmitPolicy(EmitPolicy.ON_CHECKPOINT) with it");
            }
            if (preAggregation > 0) {
                DataStream<Tuple2<String, Long>> partial =
                        keys.transform(
                                        name + " (pre-aggregate)",
                                        KEY_COUNT,
                                        new PreAggregateOperator(preAggregation))
                                .uid(uid + "-pre-aggregate");
                return partial.keyBy(t -> t.f0, Types.STRING)
                        .transform(
                                name,
                                KEY_COUNT,
                                new RunningCountOperator<Tuple2<String, Long>>(
                                        emitPolicy, emitInterval.toMillis(), true))
                        .uid(uid);
            }
            return keys.keyBy(k -> k, Types.STRING)
                    .transform(
                            name,
                            KEY_COUNT,
                            new RunningCountOperator<String>(
                                    emitPolicy, emitInterval.toMillis(), false))
                    .uid(uid);
        }
    }
}
