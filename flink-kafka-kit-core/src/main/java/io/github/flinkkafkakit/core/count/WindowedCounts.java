package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.core.internal.JobGraph;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;

/**
 * Counts per key and event-time window (tumbling or sliding), with allowed lateness; records later
 * than that go to {@link #lateRecords()} instead of being dropped silently.
 *
 * <pre>{@code
 * WindowedCounts views = Counts.windowed(pages)          // timestamps + watermarks assigned
 *         .sliding(Duration.ofMinutes(1), Duration.ofSeconds(10))
 *         .setAllowedLateness(Duration.ofSeconds(30))
 *         .build();
 * DataStream<WindowCount> perPage = views.counts();
 * DataStream<String> late = views.lateRecords();     // keys of records too late to count
 * }</pre>
 *
 * <p>Built on Flink's window operator with an incremental count (one {@code long} per key and
 * window), so results equal Flink's own window count.
 */
@PublicEvolving
public final class WindowedCounts {

    /** Type of {@link #counts()}. */
    public static final TypeInformation<WindowCount> WINDOW_COUNT =
            TypeInformation.of(WindowCount.class);

    private final SingleOutputStreamOperator<WindowCount> counts;
    private final OutputTag<String> late;

    private WindowedCounts(SingleOutputStreamOperator<WindowCount> counts, OutputTag<String> late) {
        this.counts = counts;
        this.late = late;
    }

    /** One count per key and window, when the window closes (and again for late updates). */
    public SingleOutputStreamOperator<WindowCount> counts() {
        return counts;
    }

    /** The keys of records that arrived after their windows closed (beyond allowed lateness). */
    public DataStream<String> lateRecords() {
        return counts.getSideOutput(late);
    }

    /** Builder; see {@link Counts#windowed}. */
    @PublicEvolving
    public static final class Builder {
        private final DataStream<String> keys;
        private WindowAssigner<Object, TimeWindow> assigner;
        private Duration allowedLateness = Duration.ZERO;
        private String name = "windowed count";
        private String uid; // default fkk-windowed-count, made unique in the job

        Builder(DataStream<String> keys) {
            this.keys = keys;
        }

        /** Non-overlapping windows of {@code size}. */
        public Builder tumbling(Duration size) {
            this.assigner = TumblingEventTimeWindows.of(size);
            return this;
        }

        /** Windows of {@code size} starting every {@code slide}. */
        public Builder sliding(Duration size, Duration slide) {
            this.assigner = SlidingEventTimeWindows.of(size, slide);
            return this;
        }

        /** How long after a window's end late records still update it (default none). */
        public Builder setAllowedLateness(Duration lateness) {
            if (lateness == null || lateness.isNegative()) {
                throw new IllegalArgumentException("allowed lateness must be zero or positive");
            }
            this.allowedLateness = lateness;
            return this;
        }

        public Builder setName(String name) {
            this.name = name;
            return this;
        }

        /**
         * Operator uid (default {@code fkk-windowed-count}, with {@code -2}, {@code -3}… appended
         * for further windowed counts of the job); keep it stable for savepoints.
         */
        public Builder setUid(String uid) {
            if (uid == null || uid.isBlank()) {
                throw new IllegalArgumentException("uid must not be empty");
            }
            this.uid = uid;
            return this;
        }

        public WindowedCounts build() {
            if (assigner == null) {
                throw new IllegalStateException(
                        "no window: call tumbling(size) or sliding(size, slide)");
            }
            String uid =
                    this.uid != null
                            ? this.uid
                            : JobGraph.of(keys.getExecutionEnvironment(), keys)
                                    .uniqueUid("fkk-windowed-count");
            OutputTag<String> late = new OutputTag<>(uid + "-late", Types.STRING);
            SingleOutputStreamOperator<WindowCount> counts =
                    keys.keyBy(k -> k, Types.STRING)
                            .window(assigner)
                            .allowedLateness(allowedLateness)
                            .sideOutputLateData(late)
                            .aggregate(
                                    new CountAggregate(),
                                    new ToWindowCount(),
                                    Types.LONG,
                                    Types.LONG,
                                    WINDOW_COUNT)
                            .name(name)
                            .uid(uid);
            return new WindowedCounts(counts, late);
        }
    }

    private static final class CountAggregate implements AggregateFunction<String, Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(String value, Long accumulator) {
            return accumulator + 1;
        }

        @Override
        public Long getResult(Long accumulator) {
            return accumulator;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    private static final class ToWindowCount
            extends ProcessWindowFunction<Long, WindowCount, String, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(
                String key, Context context, Iterable<Long> counts, Collector<WindowCount> out) {
            out.collect(
                    new WindowCount(
                            key,
                            context.window().getStart(),
                            context.window().getEnd(),
                            counts.iterator().next()));
        }
    }
}
