package io.github.flinkkafkakit.state.internal;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.ttl.TtlStateFactory;
import org.apache.flink.runtime.state.ttl.TtlValue;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pins what {@link FlinkKeyedRuntime}, the kit's one adapter to Flink's runtime, relies on beyond
 * Flink's public API, on a real keyed operator in Flink's test harness (heap backend). A Flink
 * upgrade that changes any of it fails here, naming what changed, instead of in a restore.
 */
class FlinkKeyedRuntimeTest {

    private static final int MAX_PARALLELISM = 128;

    @Test
    void shouldGiveTheFunctionItsStateFromTheInstalledStore() throws Exception {
        PinOperator operator = new PinOperator();
        try (var harness = harness(operator)) {
            harness.open();
            harness.processElement("a", 1);
            harness.processElement("b", 2);
            harness.processElement("a", 3);

            assertThat(operator.stateRequests.get())
                    .as("getRuntimeContext().getState(...) went to the store installed before open")
                    .isEqualTo(1);
            assertThat(new TreeMap<>(counts(operator, "a", "b")))
                    .containsExactly(Map.entry("a", 2L), Map.entry("b", 1L));
            assertThat(operator.runtime.keysOf("count"))
                    .as("keys of a Flink state")
                    .containsExactlyInAnyOrder("a", "b");
        }
    }

    @Test
    void shouldCreateTheFunctionsTimersThroughTheOperatorsTimerServiceMethod() throws Exception {
        PinOperator operator = new PinOperator();
        try (var harness = harness(operator)) {
            harness.open();
            harness.processElement("a", 10);
            assertThat(operator.timerServices)
                    .as("timer services the operator was asked for")
                    .contains("user-timers");
            harness.processWatermark(200);
            assertThat(harness.extractOutputValues()).contains("fired a@110");
        }
    }

    /**
     * What the timer log relies on to write nothing for a timer registered and gone between two
     * checkpoints: on the heap backend a timer service's count changes exactly when a timer is
     * added or removed (registering one it holds, or deleting one it does not, leaves it).
     */
    @Test
    void shouldCountTimersExactlyWhenTheyAreAddedOrRemovedOnTheHeapBackend() throws Exception {
        PinOperator operator = new PinOperator();
        try (var harness = harness(operator)) {
            harness.open();
            InternalTimerService<VoidNamespace> service =
                    operator.getInternalTimerService(
                            "pin-timers", VoidNamespaceSerializer.INSTANCE, operator);
            FlinkKeyedRuntime.TimerCount count = operator.runtime.timerCount(service);
            assertThat(count).as("counts on the heap backend").isNotNull();
            operator.setCurrentKey("a");
            service.registerEventTimeTimer(VoidNamespace.INSTANCE, 5);
            assertThat(count.count(true)).as("a new event-time timer").isEqualTo(1);
            service.registerEventTimeTimer(VoidNamespace.INSTANCE, 5);
            assertThat(count.count(true)).as("the same timer again").isEqualTo(1);
            operator.setCurrentKey("b");
            service.registerEventTimeTimer(VoidNamespace.INSTANCE, 5);
            assertThat(count.count(true)).as("the same time, another key").isEqualTo(2);
            service.deleteEventTimeTimer(VoidNamespace.INSTANCE, 6);
            assertThat(count.count(true)).as("deleting a timer it does not hold").isEqualTo(2);
            service.deleteEventTimeTimer(VoidNamespace.INSTANCE, 5);
            assertThat(count.count(true)).as("deleting one it holds").isEqualTo(1);
            assertThat(count.count(false)).isZero();
            service.registerProcessingTimeTimer(VoidNamespace.INSTANCE, 1_000);
            service.registerProcessingTimeTimer(VoidNamespace.INSTANCE, 1_000);
            assertThat(count.count(false)).as("a processing-time timer, twice").isEqualTo(1);
            assertThat(count.count(true)).isEqualTo(1);
        }
    }

    @Test
    void shouldKeepTheCurrentKeyGroupAsKeyGroupRangeAssignmentComputesIt() throws Exception {
        PinOperator operator = new PinOperator();
        try (var harness = harness(operator)) {
            harness.open();
            FlinkKeyedRuntime<String> runtime = operator.runtime;
            assertThat(runtime.isHeapBackend()).isTrue();
            runtime.checkTimersOutOfRawKeyedState();
            for (String key : List.of("a", "user-17", "ü")) {
                runtime.setCurrentKey(key);
                assertThat(runtime.currentKeyGroup())
                        .as("key group of '%s'", key)
                        .isEqualTo(KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_PARALLELISM));
            }
            runtime.setCurrentKeyAndKeyGroup("x", 7);
            assertThat(runtime.currentKey()).isEqualTo("x");
            assertThat(runtime.currentKeyGroup()).isEqualTo(7);
            assertThat(runtime.maxParallelism()).isEqualTo(MAX_PARALLELISM);
            assertThat(runtime.keyGroupRange()).isEqualTo(KeyGroupRange.of(0, 127));
            harness.setProcessingTime(42);
            assertThat(runtime.processingTime()).isEqualTo(42);
        }
    }

    @Test
    void shouldGiveBackRawKeyedStateKeyGroupByKeyGroup() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(new PinOperator())) {
            harness.open();
            harness.processElement("a", 1);
            snapshot = harness.snapshot(1, 1);
        }
        PinOperator restored = new PinOperator();
        try (var harness = harness(restored)) {
            harness.initializeState(snapshot);
            harness.open();
            assertThat(restored.rawKeyGroups).hasSize(MAX_PARALLELISM);
            restored.rawKeyGroups.forEach(
                    (keyGroup, text) -> assertThat(text).isEqualTo("group " + keyGroup));
        }
    }

    @Test
    void shouldWriteATtlValueAsItsTimestampThenTheValue() throws Exception {
        TypeSerializer<TtlValue<String>> serializer =
                new TtlStateFactory.TtlSerializer<>(
                        LongSerializer.INSTANCE, StringSerializer.INSTANCE);
        DataOutputSerializer stamped = new DataOutputSerializer(32);
        serializer.serialize(new TtlValue<>("v", 0x0102030405060708L), stamped);
        DataOutputSerializer expected = new DataOutputSerializer(32);
        expected.writeLong(0x0102030405060708L);
        StringSerializer.INSTANCE.serialize("v", expected);
        assertThat(stamped.getCopyOfBuffer())
                .as("the changelog record of a state with a TTL")
                .isEqualTo(expected.getCopyOfBuffer());
    }

    private static Map<String, Long> counts(PinOperator operator, String... keys) throws Exception {
        Map<String, Long> counts = new TreeMap<>();
        for (String key : keys) {
            operator.setCurrentKey(key);
            counts.put(key, operator.function.count.value());
        }
        return counts;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, String, String> harness(
            PinOperator operator) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                operator, s -> s, Types.STRING, MAX_PARALLELISM, 1, 0);
    }

    /** Counts per key in a ValueState and sets an event-time timer 100 after each element. */
    static final class CountFunction extends KeyedProcessFunction<String, String, String> {
        transient ValueState<Long> count;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out)
                throws Exception {
            Long current = count.value();
            count.update(current == null ? 1 : current + 1);
            ctx.timerService().registerEventTimeTimer(ctx.timestamp() + 100);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) {
            out.collect("fired " + ctx.getCurrentKey() + "@" + timestamp);
        }
    }

    /** A keyed operator using the adapter the way the kit's Kafka-state operators do. */
    static final class PinOperator extends KeyedProcessOperator<String, String, String> {
        final CountFunction function;
        final AtomicInteger stateRequests = new AtomicInteger();
        final List<String> timerServices = new ArrayList<>();
        final Map<Integer, String> rawKeyGroups = new TreeMap<>();
        transient FlinkKeyedRuntime<String> runtime;

        PinOperator() {
            this(new CountFunction());
        }

        private PinOperator(CountFunction function) {
            super(function);
            this.function = function;
        }

        @Override
        protected boolean isUsingCustomRawKeyedState() {
            return true;
        }

        @Override
        public void initializeState(StateInitializationContext context) throws Exception {
            super.initializeState(context);
            runtime = new FlinkKeyedRuntime<>(this, super::getInternalTimerService, w -> {});
            FlinkKeyedRuntime.readRawKeyedState(
                    context, (keyGroup, in) -> rawKeyGroups.put(keyGroup, in.readUTF()));
        }

        @Override
        public void open() throws Exception {
            runtime.installKeyedStateStore((flink, serializers) -> counting(flink));
            super.open();
        }

        @Override
        public <KK, N> InternalTimerService<N> getInternalTimerService(
                String name,
                TypeSerializer<N> namespaceSerializer,
                Triggerable<KK, N> triggerable) {
            timerServices.add(name);
            return super.getInternalTimerService(name, namespaceSerializer, triggerable);
        }

        @Override
        public void snapshotState(StateSnapshotContext context) throws Exception {
            super.snapshotState(context);
            FlinkKeyedRuntime.writeRawKeyedState(
                    context, (keyGroup, out) -> out.writeUTF("group " + keyGroup));
        }

        /** Flink's store, counting the value states asked of it. */
        private KeyedStateStore counting(KeyedStateStore flink) {
            return (KeyedStateStore)
                    Proxy.newProxyInstance(
                            KeyedStateStore.class.getClassLoader(),
                            new Class<?>[] {KeyedStateStore.class},
                            (proxy, method, args) -> {
                                if (method.getName().equals("getState")) {
                                    stateRequests.incrementAndGet();
                                }
                                return method.invoke(flink, args);
                            });
        }
    }
}
