package io.github.flinkkafkakit.core.internal;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The restored enumerator of {@link BoundedKafkaSource} around the connector's real one, driven by
 * a fake coordinator context (no broker: discovery results are handed in).
 */
class BoundedKafkaSourceTest {

    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final KafkaPartitionSplit S0 = new KafkaPartitionSplit(P0, 3, 10);
    private static final KafkaPartitionSplit S1 = new KafkaPartitionSplit(P1, 4, 10);

    private static KafkaSource<String> source() {
        return KafkaSource.<String>builder()
                .setBootstrapServers("localhost:9")
                .setGroupId("g")
                .setTopics("t")
                .setDeserializer(
                        KafkaRecordDeserializationSchema.valueOnly(StringDeserializer.class))
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.offsets(Map.of(P0, 10L, P1, 10L)))
                .build();
    }

    @Test
    void connectorStillHangsWhenRestored() throws Exception {
        FakeContext context = new FakeContext();
        try (SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> raw =
                source().restoreEnumerator(
                                context,
                                new KafkaSourceEnumState(Set.of(S0, S1), Set.of(), true))) {
            raw.start();
            context.register(0);
            raw.addReader(0);
            context.runNextCall(Set.of(P0, P1));
            context.register(1);
            raw.addReader(1);
        }
        assertThat(context.events)
                .as(
                        "FLINK-31006 looks fixed in the connector (its restored enumerator now"
                                + " signals NoMoreSplits): BoundedKafkaSource may go")
                .isEmpty();
    }

    @Test
    void signalsEachReaderOnceAfterDiscoveryAndAgainOnReRegistration() throws Exception {
        FakeContext context = new FakeContext();
        try (SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> enumerator =
                restored(context, new KafkaSourceEnumState(Set.of(S0, S1), Set.of(), true))) {
            enumerator.start();
            context.register(0);
            enumerator.addReader(0);
            assertThat(context.events).as("before the discovery completed").isEmpty();

            context.runNextCall(Set.of(P0, P1));
            assertThat(context.events).containsExactly("no-more-splits 0");

            context.register(1);
            enumerator.addReader(1);
            assertThat(context.events).containsExactly("no-more-splits 0", "no-more-splits 1");

            // Reader 0 fails and registers again: told once more, for its new registration.
            enumerator.addSplitsBack(List.of(), 0);
            enumerator.addReader(0);
            assertThat(context.events)
                    .containsExactly("no-more-splits 0", "no-more-splits 1", "no-more-splits 0");
        }
    }

    @Test
    void assignsRestoredUnassignedSplitsBeforeSignalling() throws Exception {
        FakeContext context = new FakeContext();
        try (SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> enumerator =
                restored(context, new KafkaSourceEnumState(Set.of(), Set.of(S0, S1), true))) {
            enumerator.start();
            context.runNextCall(Set.of(P0, P1));
            context.register(0);
            enumerator.addReader(0);
            context.register(1);
            enumerator.addReader(1);
        }
        assertThat(context.events)
                .containsExactlyInAnyOrder(
                        "assign " + owner(S0) + " " + P0,
                        "no-more-splits " + owner(S0),
                        "assign " + owner(S1) + " " + P1,
                        "no-more-splits " + owner(S1));
        for (int reader : List.of(0, 1)) {
            List<String> own =
                    context.events.stream().filter(e -> e.contains(" " + reader)).toList();
            assertThat(own.get(own.size() - 1))
                    .as("reader %s: NoMoreSplits comes last", reader)
                    .isEqualTo("no-more-splits " + reader);
        }
    }

    @Test
    void leavesTheSignalToTheConnectorWhenItDiscoversPartitions() throws Exception {
        FakeContext context = new FakeContext();
        try (SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> enumerator =
                restored(context, new KafkaSourceEnumState(Set.of(), Set.of(), false))) {
            enumerator.start();
            context.register(0);
            enumerator.addReader(0);
            context.register(1);
            enumerator.addReader(1);
            context.runNextCall(Set.of(P0, P1)); // discovery: both partitions are new
            assertThat(context.events).as("before the splits are initialized").isEmpty();
            context.runNextCall(null); // split initialization, then the connector signals
        }
        assertThat(context.events.stream().filter(e -> e.startsWith("no-more-splits")))
                .containsExactlyInAnyOrder("no-more-splits 0", "no-more-splits 1");
        assertThat(context.events).hasSize(4);
    }

    private static SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restored(
            FakeContext context, KafkaSourceEnumState state) throws Exception {
        KafkaSource<String> source = source();
        assertThat(source.getBoundedness()).isEqualTo(Boundedness.BOUNDED);
        assertThat(BoundedKafkaSource.of(source)).isInstanceOf(BoundedKafkaSource.class);
        return BoundedKafkaSource.of(source).restoreEnumerator(context, state);
    }

    private static int owner(KafkaPartitionSplit split) {
        return Math.floorMod(
                (split.getTopicPartition().topic().hashCode() * 31 & 0x7FFFFFFF)
                        + split.getTopicPartition().partition(),
                2);
    }

    /** Records assignments and NoMoreSplits; runs asynchronous calls when the test says so. */
    private static final class FakeContext implements SplitEnumeratorContext<KafkaPartitionSplit> {

        final List<String> events = new ArrayList<>();
        private final Map<Integer, ReaderInfo> readers = new HashMap<>();
        private final Deque<Runnable> calls = new ArrayDeque<>();
        private Object nextResult;

        void register(int subtask) {
            readers.put(subtask, new ReaderInfo(subtask, "localhost"));
        }

        /** Runs the oldest pending call: {@code result} for its handler, or its own result. */
        void runNextCall(Object result) {
            assertThat(calls).as("pending asynchronous calls").isNotEmpty();
            nextResult = result;
            calls.poll().run();
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler) {
            calls.add(
                    () -> {
                        T result;
                        try {
                            result = nextResult != null ? (T) nextResult : callable.call();
                        } catch (Exception e) {
                            handler.accept(null, e);
                            return;
                        }
                        handler.accept(result, null);
                    });
        }

        @Override
        public <T> void callAsync(
                Callable<T> callable, BiConsumer<T, Throwable> handler, long delay, long period) {
            throw new UnsupportedOperationException("periodic discovery in a bounded source");
        }

        @Override
        public void assignSplits(SplitsAssignment<KafkaPartitionSplit> assignment) {
            assignment
                    .assignment()
                    .forEach(
                            (reader, splits) ->
                                    splits.forEach(
                                            s ->
                                                    events.add(
                                                            "assign "
                                                                    + reader
                                                                    + " "
                                                                    + s.getTopicPartition())));
        }

        @Override
        public void signalNoMoreSplits(int subtask) {
            events.add("no-more-splits " + subtask);
        }

        @Override
        public Map<Integer, ReaderInfo> registeredReaders() {
            return readers;
        }

        @Override
        public int currentParallelism() {
            return 2;
        }

        @Override
        public SplitEnumeratorMetricGroup metricGroup() {
            return UnregisteredMetricsGroup.createSplitEnumeratorMetricGroup();
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, SourceEvent event) {}

        @Override
        public void runInCoordinatorThread(Runnable runnable) {
            runnable.run();
        }
    }
}
