package io.github.flinkkafkakit.state;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
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

    /** Creates the changelog-backed handles; implemented by the kit's operator. */
    public interface ChangelogContext {
        <T> ValueState<T> value(
                String name,
                ValueState<T> flinkState,
                TypeSerializer<T> serializer,
                Duration ttl,
                ValueState<Long> lastUpdate);

        <UK, UV> MapState<UK, UV> map(
                String name,
                MapState<UK, UV> flinkState,
                TypeSerializer<UK> keySerializer,
                TypeSerializer<UV> valueSerializer);

        ChangelogCounter counter(String name, ValueState<Long> flinkState);

        void deadLetter(byte[] key, byte[] value, Throwable reason);
    }

    private transient ChangelogContext changelog;

    /** Called by the kit's operator before {@code open()}. */
    public final void attach(ChangelogContext context) {
        this.changelog = context;
    }

    private ChangelogContext changelog() {
        if (changelog == null) {
            throw new IllegalStateException(
                    "Changelog state is only available when the function runs through"
                            + " ChangelogPipeline.process(...), declared in open()");
        }
        return changelog;
    }

    /** A changelog-backed {@link ValueState}; {@code name} is unique within the function. */
    protected final <T> ValueState<T> valueState(String name, TypeInformation<T> type) {
        ValueState<T> flink = getRuntimeContext().getState(new ValueStateDescriptor<>(name, type));
        return changelog()
                .value(name, flink, getRuntimeContext().createSerializer(type), null, null);
    }

    /**
     * A changelog-backed {@link ValueState} whose value expires {@code ttl} (processing time) after
     * its last update: it reads as {@code null} from then on, and a tombstone goes to the changelog
     * at the next checkpoint. A value restored from Kafka lives for {@code ttl} from the restore.
     */
    protected final <T> ValueState<T> valueState(
            String name, TypeInformation<T> type, Duration ttl) {
        if (ttl == null || ttl.isZero() || ttl.isNegative()) {
            throw new IllegalArgumentException("ttl must be positive, got " + ttl);
        }
        ValueState<T> flink = getRuntimeContext().getState(new ValueStateDescriptor<>(name, type));
        ValueState<Long> lastUpdate =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("__fkk_ttl_" + name, Types.LONG));
        return changelog()
                .value(name, flink, getRuntimeContext().createSerializer(type), ttl, lastUpdate);
    }

    /** A changelog-backed {@link MapState}: one changelog record per (key, map key). */
    protected final <UK, UV> MapState<UK, UV> mapState(
            String name, TypeInformation<UK> keyType, TypeInformation<UV> valueType) {
        MapState<UK, UV> flink =
                getRuntimeContext().getMapState(new MapStateDescriptor<>(name, keyType, valueType));
        return changelog()
                .map(
                        name,
                        flink,
                        getRuntimeContext().createSerializer(keyType),
                        getRuntimeContext().createSerializer(valueType));
    }

    /** A changelog-backed per-key counter. */
    protected final ChangelogCounter counter(String name) {
        ValueState<Long> flink =
                getRuntimeContext().getState(new ValueStateDescriptor<>(name, Types.LONG));
        return changelog().counter(name, flink);
    }

    /**
     * Sends an input this function cannot process to the source's dead-letter topic instead of
     * failing the job: {@code key} and {@code value} become the dead letter's key and value, the
     * reason goes into the {@code __fkk.errors.*} headers (stage {@code PROCESS}; partition and
     * offset are -1, the keyed function does not see the source position). The changelog writer
     * writes it with this checkpoint's state changes and outputs, so under exactly-once it is
     * visible once, also when a restart replays the input. Needs the source's error policy to be
     * {@code ErrorPolicy.deadLetter(topic)}.
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
        changelog().deadLetter(key, value, reason);
    }

    /**
     * Called before each checkpoint (and at end of input) once for every key whose state changed
     * since the previous one, with that key current: emit coalesced results here. State it changes
     * (e.g. resetting a per-checkpoint delta) is written with the same checkpoint, and does not
     * call this again for that checkpoint. Default: none.
     */
    public void onCheckpoint(K key, Collector<OUT> out) throws Exception {}
}
