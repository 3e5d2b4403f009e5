package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.watermark.WatermarkDeclaration;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;
import org.apache.flink.streaming.api.lineage.SourceLineageVertex;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;

/**
 * A bounded {@link KafkaSource} that also finishes when its enumerator is restored from a
 * checkpoint or savepoint (FLINK-31006: the connector's restored enumerator finds no partition
 * change and never sends NoMoreSplits, so the readers wait forever). After the restored
 * enumerator's first partition discovery, each registered reader that the connector has not told
 * yet gets NoMoreSplits once per registration (a second one fails a finished reader, FLINK-39712).
 * Everything else is the delegate's.
 */
@Internal
public final class BoundedKafkaSource<T>
        implements Source<T, KafkaPartitionSplit, KafkaSourceEnumState>,
                ResultTypeQueryable<T>,
                LineageVertexProvider {

    private static final long serialVersionUID = 1L;

    private final KafkaSource<T> delegate;

    private BoundedKafkaSource(KafkaSource<T> delegate) {
        this.delegate = delegate;
    }

    /** {@code source} itself when unbounded, else wrapped. */
    public static <T> Source<T, KafkaPartitionSplit, KafkaSourceEnumState> of(
            KafkaSource<T> source) {
        return source.getBoundedness() == Boundedness.BOUNDED
                ? new BoundedKafkaSource<>(source)
                : source;
    }

    @Override
    public Boundedness getBoundedness() {
        return delegate.getBoundedness();
    }

    @Override
    public SourceReader<T, KafkaPartitionSplit> createReader(SourceReaderContext readerContext)
            throws Exception {
        return delegate.createReader(readerContext);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> enumContext) {
        return delegate.createEnumerator(enumContext);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> enumContext,
            KafkaSourceEnumState checkpoint)
            throws IOException {
        return RestoredEnumerator.restore(delegate, enumContext, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return delegate.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return delegate.getEnumeratorCheckpointSerializer();
    }

    @Override
    public Set<? extends WatermarkDeclaration> declareWatermarks() {
        return delegate.declareWatermarks();
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return delegate.getProducedType();
    }

    @Override
    public SourceLineageVertex getLineageVertex() {
        return delegate.getLineageVertex();
    }

    /**
     * The restored connector enumerator, seeing its context through {@link Tracking}: which readers
     * it signalled, and whether its asynchronous partition discovery has completed. All calls run
     * in the coordinator thread.
     */
    @VisibleForTesting
    static final class RestoredEnumerator
            implements SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> {

        private final SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> delegate;
        private final Tracking tracking;

        private RestoredEnumerator(
                SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> delegate,
                Tracking tracking) {
            this.delegate = delegate;
            this.tracking = tracking;
        }

        @VisibleForTesting
        static RestoredEnumerator restore(
                KafkaSource<?> source,
                SplitEnumeratorContext<KafkaPartitionSplit> context,
                KafkaSourceEnumState checkpoint)
                throws IOException {
            Tracking tracking = new Tracking(context);
            return new RestoredEnumerator(source.restoreEnumerator(tracking, checkpoint), tracking);
        }

        @Override
        public void start() {
            delegate.start();
        }

        @Override
        public void addReader(int subtaskId) {
            tracking.signalled.remove(subtaskId);
            delegate.addReader(subtaskId);
            tracking.signalIfDiscovered(subtaskId);
        }

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {
            delegate.handleSplitRequest(subtaskId, requesterHostname);
        }

        @Override
        public void addSplitsBack(List<KafkaPartitionSplit> splits, int subtaskId) {
            delegate.addSplitsBack(splits, subtaskId);
        }

        @Override
        public KafkaSourceEnumState snapshotState(long checkpointId) throws Exception {
            return delegate.snapshotState(checkpointId);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            delegate.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void notifyCheckpointAborted(long checkpointId) throws Exception {
            delegate.notifyCheckpointAborted(checkpointId);
        }

        @Override
        public void handleSourceEvent(int subtaskId, SourceEvent sourceEvent) {
            delegate.handleSourceEvent(subtaskId, sourceEvent);
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }

    /**
     * The coordinator's context as the delegate enumerator sees it: records the readers it sends
     * NoMoreSplits to, and counts its one-shot asynchronous calls (partition discovery, then split
     * initialization) until none is left.
     */
    private static final class Tracking implements SplitEnumeratorContext<KafkaPartitionSplit> {

        private final SplitEnumeratorContext<KafkaPartitionSplit> context;

        /** Readers told NoMoreSplits since they last registered. */
        private final Set<Integer> signalled = new HashSet<>();

        private int pendingCalls;
        private boolean discovered;

        private Tracking(SplitEnumeratorContext<KafkaPartitionSplit> context) {
            this.context = context;
        }

        private void signalIfDiscovered(int subtaskId) {
            if (discovered
                    && context.registeredReaders().containsKey(subtaskId)
                    && !signalled.contains(subtaskId)) {
                signalNoMoreSplits(subtaskId);
            }
        }

        @Override
        public void signalNoMoreSplits(int subtask) {
            signalled.add(subtask);
            context.signalNoMoreSplits(subtask);
        }

        @Override
        public <R> void callAsync(Callable<R> callable, BiConsumer<R, Throwable> handler) {
            pendingCalls++;
            context.callAsync(
                    callable,
                    (result, error) -> {
                        handler.accept(result, error);
                        if (--pendingCalls == 0) {
                            discovered = true;
                            for (int reader : Set.copyOf(context.registeredReaders().keySet())) {
                                signalIfDiscovered(reader);
                            }
                        }
                    });
        }

        @Override
        public <R> void callAsync(
                Callable<R> callable,
                BiConsumer<R, Throwable> handler,
                long initialDelayMillis,
                long periodMillis) {
            // Periodic discovery (never for a bounded source): the connector decides alone.
            context.callAsync(callable, handler, initialDelayMillis, periodMillis);
        }

        @Override
        public SplitEnumeratorMetricGroup metricGroup() {
            return context.metricGroup();
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, SourceEvent event) {
            context.sendEventToSourceReader(subtaskId, event);
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, int attemptNumber, SourceEvent event) {
            context.sendEventToSourceReader(subtaskId, attemptNumber, event);
        }

        @Override
        public int currentParallelism() {
            return context.currentParallelism();
        }

        @Override
        public Map<Integer, ReaderInfo> registeredReaders() {
            return context.registeredReaders();
        }

        @Override
        public Map<Integer, Map<Integer, ReaderInfo>> registeredReadersOfAttempts() {
            return context.registeredReadersOfAttempts();
        }

        @Override
        public void assignSplits(SplitsAssignment<KafkaPartitionSplit> newSplitAssignments) {
            context.assignSplits(newSplitAssignments);
        }

        @Override
        public void assignSplit(KafkaPartitionSplit split, int subtask) {
            context.assignSplit(split, subtask);
        }

        @Override
        public void runInCoordinatorThread(Runnable runnable) {
            context.runInCoordinatorThread(runnable);
        }

        @Override
        public void setIsProcessingBacklog(boolean isProcessingBacklog) {
            context.setIsProcessingBacklog(isProcessingBacklog);
        }
    }
}
