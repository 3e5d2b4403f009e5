package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.Stage;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * A keyed function whose state is backed by a Kafka changelog topic. Declare state in {@code
 * open()} with {@link #valueState}, {@link #mapState} or {@link #counter}; use it like Flink state.
 * Each checkpoint writes the latest value of every changed key to the changelog (coalesced), and a
 * job started without Flink state rebuilds it from there.
 *
 * <pre>{@code
 * class RunningTotal extends ChangelogFunction<String, Tuple2<String, Long>, Tuple2<String, Long>> {
 *     private transient ValueState<Long> total;
 *
 *     public void open(OpenContext ctx) {
 *         total = valueState("total", Types.LONG);
 *     }
 *
 *     public void processElement(Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, Long>> out)
 *             throws Exception {
 *         Long t = total.value();
 *         total.update((t == null ? 0 : t) + in.f1);
 *     }
 *
 *     // Coalesced output: once per changed key and checkpoint instead of once per record.
 *     public void onCheckpoint(String key, Collector<Tuple2<String, Long>> out) throws Exception {
 *         out.collect(Tuple2.of(key, total.value()));
 *     }
 * }
 * }</pre>
 *
 * <p>Run it with {@link ChangelogPipeline#process}.
 */
@PublicEvolving
public abstract class ChangelogFunction<K, IN, OUT> extends KeyedProcessFunction<K, IN, OUT> {

    private static final long serialVersionUID = 1L;

    /** Where {@link #deadLetter} sends its letters; implemented by the kit's operator. */
    @FunctionalInterface
    public interface ChangelogContext {
        void deadLetter(DeadLetter letter);
    }

    private transient ChangelogContext changelog;

    /** Called by the kit's operator before {@code open()}. */
    public final void attach(ChangelogContext context) {
        this.changelog = context;
    }

    /**
     * A {@link ValueState} (as {@code getRuntimeContext().getState(...)} gives it, which a
     * Kafka-backed operator keeps in Kafka); {@code name} is unique within the function.
     */
    protected final <T> ValueState<T> valueState(String name, TypeInformation<T> type) {
        return getRuntimeContext().getState(new ValueStateDescriptor<>(name, type));
    }

    /**
     * A {@link ValueState} whose value expires {@code ttl} (processing time) after its last update:
     * it reads as {@code null} from then on, and a tombstone goes to the changelog at the next
     * checkpoint. The time of the last update goes to the changelog with the value, so after a
     * restart from Kafka the value expires when it would have.
     */
    protected final <T> ValueState<T> valueState(
            String name, TypeInformation<T> type, Duration ttl) {
        if (ttl == null || ttl.isZero() || ttl.isNegative()) {
            throw new IllegalArgumentException("ttl must be positive, got " + ttl);
        }
        ValueStateDescriptor<T> descriptor = new ValueStateDescriptor<>(name, type);
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ttl).build());
        return getRuntimeContext().getState(descriptor);
    }

    /** A {@link MapState}: one changelog record per (key, map key). */
    protected final <UK, UV> MapState<UK, UV> mapState(
            String name, TypeInformation<UK> keyType, TypeInformation<UV> valueType) {
        return getRuntimeContext().getMapState(new MapStateDescriptor<>(name, keyType, valueType));
    }

    /** A per-key counter ({@link ChangelogCounter#add} refuses to overflow). */
    protected final ChangelogCounter counter(String name) {
        ValueState<Long> value = valueState(name, Types.LONG);
        return new ChangelogCounter() {
            @Override
            public long add(long delta) throws Exception {
                Long current = value.value();
                long next = Math.addExact(current == null ? 0 : current, delta);
                value.update(next);
                return next;
            }

            @Override
            public long get() throws Exception {
                Long current = value.value();
                return current == null ? 0 : current;
            }

            @Override
            public void clear() {
                value.clear();
            }
        };
    }

    /**
     * Sends an input this function cannot process to the source's dead-letter topic instead of
     * failing the job: {@code key} and {@code value} become the dead letter's key and value, the
     * reason goes into the {@code __fkk.errors.*} headers (stage {@code PROCESS}; without the
     * source topic, partition and offset headers, which are unknown here: use {@link DeadLetter#of}
     * with the input's {@code KafkaRecord} to keep them). The changelog writer writes it with this
     * checkpoint's state changes and outputs, so under exactly-once it is visible once, also when a
     * restart replays the input. Needs the source's error policy to be {@code
     * ErrorPolicy.deadLetter(topic)}.
     *
     * <pre>{@code
     * try {
     *     total.update(Math.addExact(current, deposit.f1));
     * } catch (ArithmeticException e) {
     *     deadLetter(keyBytes, valueBytes, e);
     * }
     * }</pre>
     */
    protected final void deadLetter(byte[] key, byte[] value, Throwable reason) {
        DeadLetter letter = new DeadLetter();
        letter.key = key;
        letter.value = value;
        letter.setFailure(Stage.PROCESS, reason);
        deadLetter(letter);
    }

    /** Sends {@code letter} to the source's dead-letter topic (see {@link #deadLetter}). */
    protected final void deadLetter(DeadLetter letter) {
        if (changelog == null) {
            throw new IllegalStateException(
                    "Dead letters of a ChangelogFunction go through its Kafka-backed operator: run"
                            + " it with KafkaStateJob.process(...) or ChangelogPipeline.process(...)");
        }
        changelog.deadLetter(letter);
    }

    /**
     * Called before each checkpoint (and at end of input) once for every key whose state changed
     * since the previous one, with that key current: emit coalesced results here. State it changes
     * (e.g. resetting a per-checkpoint delta) is written with the same checkpoint, and does not
     * call this again for that checkpoint. Default: none.
     */
    public void onCheckpoint(K key, Collector<OUT> out) throws Exception {}
}
