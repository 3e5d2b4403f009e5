package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.common.functions.SerializerFactory;
import org.apache.flink.api.common.state.AggregatingState;
import org.apache.flink.api.common.state.AggregatingStateDescriptor;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReducingState;
import org.apache.flink.api.common.state.ReducingStateDescriptor;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.runtime.state.ttl.TtlStateFactory;
import org.apache.flink.runtime.state.ttl.TtlValue;

/**
 * The keyed state store a function on a Kafka-backed operator gets from {@code
 * getRuntimeContext().getState(...)} and the other getters: each state is Flink's own (from the
 * operator's store) wrapped in a layer that records which keys changed, so the operator writes
 * their latest values to the changelog at each checkpoint barrier.
 *
 * <ul>
 *   <li>{@code ValueState}: layers stacked on a store, see {@link #getState}; {@code MapState},
 *       {@code ListState}: Flink's state with change tracking ({@link ChangelogMapState}, {@link
 *       ChangelogListState});
 *   <li>{@code ReducingState}, {@code AggregatingState}: a tracked value state of the reduced value
 *       or the accumulator (its serializer is the descriptor's), which the changelog can hold;
 *   <li>TTL ({@code StateTtlConfig}) on value, reducing and aggregating states: kept by the kit
 *       (the time of the last update goes to the changelog with the value, so a restore from Kafka
 *       keeps it; an expired value becomes a tombstone), refused on list and map states;
 *   <li>Flink's asynchronous state API (State V2): refused.
 * </ul>
 */
@Internal
public final class ChangelogKeyedStateStore implements KeyedStateStore {

    /** Prefix of the names of the kit's own states; a function may not use it. */
    static final String RESERVED_PREFIX = "__fkk";

    private final KeyedStateStore flink;
    private final ChangelogStates<?> states;
    private final SerializerFactory serializers;
    private final String operator;

    public ChangelogKeyedStateStore(
            KeyedStateStore flink,
            ChangelogStates<?> states,
            SerializerFactory serializers,
            String operator) {
        this.flink = flink;
        this.states = states;
        this.serializers = serializers;
        this.operator = operator;
    }

    private void checkName(StateDescriptor<?, ?> descriptor) {
        if (descriptor.getName().startsWith(RESERVED_PREFIX)) {
            throw new IllegalArgumentException(
                    "State names starting with '"
                            + RESERVED_PREFIX
                            + "' are the kit's own: rename state '"
                            + descriptor.getName()
                            + "'");
        }
    }

    @Override
    public <T> ValueState<T> getState(ValueStateDescriptor<T> descriptor) {
        checkName(descriptor);
        descriptor.initializeSerializerUnlessSet(serializers);
        return value(descriptor.getName(), descriptor.getSerializer(), descriptor.getTtlConfig());
    }

    /**
     * A Kafka-backed value state named {@code name}, stacked from its layers: the store (the kit's
     * table for String keys on the heap backend, else Flink's state), the change layer above it
     * (write-behind for String keys on other backends, else change tracking), and the TTL layer on
     * top when the descriptor has one (then the store holds each value with its last update).
     */
    @SuppressWarnings("unchecked")
    private <T> ValueState<T> value(String name, TypeSerializer<T> serializer, StateTtlConfig ttl) {
        try {
            StateRegistry<?> registry = states.registry();
            if (ttl.isEnabled()) {
                TypeSerializer<TtlValue<T>> stamped =
                        new TtlStateFactory.TtlSerializer<>(LongSerializer.INSTANCE, serializer);
                LoggedValueState<?, TtlValue<T>> inner =
                        registry.register(
                                new TrackedValueState<>(
                                        name,
                                        registry.changelogName(name, true),
                                        registry.changelogName(name, false),
                                        new FlinkValueStore<>(
                                                flink.getState(
                                                        new ValueStateDescriptor<>(name, stamped))),
                                        stamped,
                                        states.context()));
                if (inner.hook() instanceof TtlValueState) {
                    return (TtlValueState<T>) inner.hook(); // declared before
                }
                TtlValueState<T> state =
                        new TtlValueState<>(
                                inner,
                                serializer,
                                states.ttlTimers(),
                                ttl.getTimeToLive().toMillis(),
                                ttl.getUpdateType() == StateTtlConfig.UpdateType.OnReadAndWrite);
                inner.setHook(state);
                states.ttlTimers().add(state);
                return state;
            }
            ValueState<T> flinkState = flink.getState(new ValueStateDescriptor<>(name, serializer));
            String changelogName = registry.changelogName(name, false);
            String ttlName = registry.changelogName(name, true);
            ChangeContext<?> context = states.context();
            if (!context.hasStringKeys()) {
                return registry.register(
                        new TrackedValueState<>(
                                name,
                                changelogName,
                                ttlName,
                                new FlinkValueStore<>(flinkState),
                                serializer,
                                context));
            }
            if (states.runtime().isHeapBackend()) {
                return registry.register(
                        new TrackedValueState<>(
                                name,
                                changelogName,
                                ttlName,
                                new TableValueStore<>(
                                        states.tables().newTable(serializer),
                                        flinkState,
                                        states.runtime()),
                                serializer,
                                context));
            }
            return registry.register(
                    new WriteBehindValueState<>(
                            name,
                            changelogName,
                            ttlName,
                            new FlinkValueStore<>(flinkState),
                            serializer,
                            context));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create state '" + name + "'", e);
        }
    }

    @Override
    public <T> ListState<T> getListState(ListStateDescriptor<T> descriptor) {
        checkName(descriptor);
        refuseTtl(descriptor, "ListState");
        try {
            String name = descriptor.getName();
            return states.registry()
                    .register(
                            new ChangelogListState<>(
                                    name,
                                    states.registry().changelogName(name, false),
                                    flink.getListState(descriptor),
                                    descriptor.getElementSerializer(),
                                    states.context()));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Cannot create state '" + descriptor.getName() + "'", e);
        }
    }

    @Override
    public <UK, UV> MapState<UK, UV> getMapState(MapStateDescriptor<UK, UV> descriptor) {
        checkName(descriptor);
        refuseTtl(descriptor, "MapState");
        try {
            String name = descriptor.getName();
            return states.registry()
                    .register(
                            new ChangelogMapState<>(
                                    name,
                                    states.registry().changelogName(name, false),
                                    flink.getMapState(descriptor),
                                    descriptor.getKeySerializer(),
                                    descriptor.getValueSerializer(),
                                    states.context()));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Cannot create state '" + descriptor.getName() + "'", e);
        }
    }

    @Override
    public <T> ReducingState<T> getReducingState(ReducingStateDescriptor<T> descriptor) {
        checkName(descriptor);
        descriptor.initializeSerializerUnlessSet(serializers);
        ValueState<T> reduced =
                value(descriptor.getName(), descriptor.getSerializer(), descriptor.getTtlConfig());
        return new Reducing<>(reduced, descriptor.getReduceFunction());
    }

    @Override
    public <IN, ACC, OUT> AggregatingState<IN, OUT> getAggregatingState(
            AggregatingStateDescriptor<IN, ACC, OUT> descriptor) {
        checkName(descriptor);
        descriptor.initializeSerializerUnlessSet(serializers);
        ValueState<ACC> accumulator =
                value(descriptor.getName(), descriptor.getSerializer(), descriptor.getTtlConfig());
        return new Aggregating<>(accumulator, descriptor.getAggregateFunction());
    }

    private void refuseTtl(StateDescriptor<?, ?> descriptor, String kind) {
        if (descriptor.getTtlConfig().isEnabled()) {
            throw new UnsupportedOperationException(
                    kind
                            + " '"
                            + descriptor.getName()
                            + "' of operator '"
                            + operator
                            + "' has a TTL, which Kafka-backed state supports on ValueState,"
                            + " ReducingState and AggregatingState only: keep a ValueState with a"
                            + " TTL, or clear the entries with a timer");
        }
    }

    private UnsupportedOperationException asyncState(String name) {
        return new UnsupportedOperationException(
                "State '"
                        + name
                        + "' of operator '"
                        + operator
                        + "' uses Flink's asynchronous state API (State V2), which Kafka-backed"
                        + " state does not support: declare it with the synchronous descriptors"
                        + " (org.apache.flink.api.common.state)");
    }

    @Override
    public <T> org.apache.flink.api.common.state.v2.ValueState<T> getValueState(
            org.apache.flink.api.common.state.v2.ValueStateDescriptor<T> descriptor) {
        throw asyncState(descriptor.getStateId());
    }

    @Override
    public <T> org.apache.flink.api.common.state.v2.ListState<T> getListState(
            org.apache.flink.api.common.state.v2.ListStateDescriptor<T> descriptor) {
        throw asyncState(descriptor.getStateId());
    }

    @Override
    public <UK, UV> org.apache.flink.api.common.state.v2.MapState<UK, UV> getMapState(
            org.apache.flink.api.common.state.v2.MapStateDescriptor<UK, UV> descriptor) {
        throw asyncState(descriptor.getStateId());
    }

    @Override
    public <T> org.apache.flink.api.common.state.v2.ReducingState<T> getReducingState(
            org.apache.flink.api.common.state.v2.ReducingStateDescriptor<T> descriptor) {
        throw asyncState(descriptor.getStateId());
    }

    @Override
    public <IN, ACC, OUT>
            org.apache.flink.api.common.state.v2.AggregatingState<IN, OUT> getAggregatingState(
                    org.apache.flink.api.common.state.v2.AggregatingStateDescriptor<IN, ACC, OUT>
                            descriptor) {
        throw asyncState(descriptor.getStateId());
    }

    @Override
    public String getBackendTypeIdentifier() {
        return flink.getBackendTypeIdentifier();
    }

    /** {@code ReducingState} over a tracked value state of the reduced value. */
    private static final class Reducing<T> implements ReducingState<T> {
        private final ValueState<T> reduced;
        private final ReduceFunction<T> function;

        Reducing(ValueState<T> reduced, ReduceFunction<T> function) {
            this.reduced = reduced;
            this.function = function;
        }

        @Override
        public T get() throws Exception {
            return reduced.value();
        }

        @Override
        public void add(T value) throws Exception {
            if (value == null) {
                return;
            }
            T current = reduced.value();
            reduced.update(current == null ? value : function.reduce(current, value));
        }

        @Override
        public void clear() {
            reduced.clear();
        }
    }

    /** {@code AggregatingState} over a tracked value state of the accumulator. */
    private static final class Aggregating<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
        private final ValueState<ACC> accumulator;
        private final AggregateFunction<IN, ACC, OUT> function;

        Aggregating(ValueState<ACC> accumulator, AggregateFunction<IN, ACC, OUT> function) {
            this.accumulator = accumulator;
            this.function = function;
        }

        @Override
        public OUT get() throws Exception {
            ACC current = accumulator.value();
            return current == null ? null : function.getResult(current);
        }

        @Override
        public void add(IN value) throws Exception {
            ACC current = accumulator.value();
            accumulator.update(
                    function.add(value, current == null ? function.createAccumulator() : current));
        }

        @Override
        public void clear() {
            accumulator.clear();
        }
    }
}
