package io.github.flinkkafkakit.core.count;

import io.github.flinkkafkakit.testing.Seeds;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Windowed counts against Flink's own window count, and late records in the side output. */
class WindowedCountsITCase {

    /** A fresh seed per test; {@code -Dfkk.seed=N} replays one (printed on failure). */
    @RegisterExtension final Seeds seeds = new Seeds();

    private static StreamExecutionEnvironment env(int parallelism) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        return env;
    }

    /** (key, event time) pairs in random order over ten minutes. */
    private static List<Tuple2<String, Long>> events(long seed) {
        Random random = new Random(seed);
        List<Tuple2<String, Long>> events = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            events.add(
                    Tuple2.of(
                            "page-" + (int) (Math.pow(random.nextDouble(), 2) * 40),
                            (long) random.nextInt(600_000)));
        }
        return events;
    }

    private static DataStream<String> keysWithTime(
            StreamExecutionEnvironment env, List<Tuple2<String, Long>> events) {
        return env.fromData(events)
                .assignTimestampsAndWatermarks(
                        WatermarkStrategy.<Tuple2<String, Long>>noWatermarks()
                                .withTimestampAssigner((e, t) -> e.f1))
                .map(e -> e.f0)
                .returns(Types.STRING);
    }

    private static Set<String> collect(DataStream<WindowCount> counts) throws Exception {
        Set<String> result = new TreeSet<>();
        try (var it = counts.executeAndCollect()) {
            it.forEachRemaining(
                    c ->
                            result.add(
                                    c.key
                                            + "|"
                                            + c.windowStart
                                            + "|"
                                            + c.windowEnd
                                            + "|"
                                            + c.count));
        }
        return result;
    }

    private static Set<String> flinkWindowCount(
            WindowAssigner<Object, TimeWindow> assigner, long seed) throws Exception {
        StreamExecutionEnvironment env = env(3);
        return collect(
                keysWithTime(env, events(seed))
                        .keyBy(k -> k, Types.STRING)
                        .window(assigner)
                        .aggregate(
                                new AggregateFunction<String, Long, Long>() {
                                    @Override
                                    public Long createAccumulator() {
                                        return 0L;
                                    }

                                    @Override
                                    public Long add(String value, Long acc) {
                                        return acc + 1;
                                    }

                                    @Override
                                    public Long getResult(Long acc) {
                                        return acc;
                                    }

                                    @Override
                                    public Long merge(Long a, Long b) {
                                        return a + b;
                                    }
                                },
                                new ProcessWindowFunction<Long, WindowCount, String, TimeWindow>() {
                                    @Override
                                    public void process(
                                            String key,
                                            Context ctx,
                                            Iterable<Long> in,
                                            Collector<WindowCount> out) {
                                        out.collect(
                                                new WindowCount(
                                                        key,
                                                        ctx.window().getStart(),
                                                        ctx.window().getEnd(),
                                                        in.iterator().next()));
                                    }
                                },
                                Types.LONG,
                                Types.LONG,
                                WindowedCounts.WINDOW_COUNT));
    }

    @Test
    void shouldEqualFlinksTumblingWindowCount() throws Exception {
        long seed = seeds.seed();
        StreamExecutionEnvironment env = env(3);
        Set<String> kit =
                collect(
                        Counts.windowed(keysWithTime(env, events(seed)))
                                .tumbling(Duration.ofMinutes(1))
                                .build()
                                .counts());
        assertThat(kit)
                .isNotEmpty()
                .isEqualTo(
                        flinkWindowCount(TumblingEventTimeWindows.of(Duration.ofMinutes(1)), seed));
    }

    @Test
    void shouldEqualFlinksSlidingWindowCount() throws Exception {
        long seed = seeds.seed();
        StreamExecutionEnvironment env = env(2);
        Set<String> kit =
                collect(
                        Counts.windowed(keysWithTime(env, events(seed)))
                                .sliding(Duration.ofMinutes(1), Duration.ofSeconds(20))
                                .build()
                                .counts());
        assertThat(kit)
                .isNotEmpty()
                .isEqualTo(
                        flinkWindowCount(
                                SlidingEventTimeWindows.of(
                                        Duration.ofMinutes(1), Duration.ofSeconds(20)),
                                seed));
    }

    @Test
    void shouldSendRecordsBeyondTheAllowedLatenessToTheSideOutput() throws Exception {
        StreamExecutionEnvironment env = env(1);
        List<Tuple2<String, Long>> events =
                List.of(
                        Tuple2.of("a", 1_000L),
                        Tuple2.of("a", 61_000L), // watermark 61 s: window [0, 60 s) closes
                        Tuple2.of("a", 65_000L), // watermark 65 s
                        Tuple2.of("late", 2_000L), // 63 s after its window ended; lateness 2 s
                        Tuple2.of("a", 62_000L));
        DataStream<String> keys =
                env.fromData(events)
                        .assignTimestampsAndWatermarks(
                                WatermarkStrategy.<Tuple2<String, Long>>forGenerator(
                                                ctx -> new EveryEvent())
                                        .withTimestampAssigner((e, t) -> e.f1))
                        .map(e -> e.f0)
                        .returns(Types.STRING);
        WindowedCounts counts =
                Counts.windowed(keys)
                        .tumbling(Duration.ofMinutes(1))
                        .setAllowedLateness(Duration.ofSeconds(2))
                        .build();
        List<String> late = new ArrayList<>();
        List<String> all = new ArrayList<>();
        counts.lateRecords()
                .map(k -> "late:" + k)
                .returns(Types.STRING)
                .union(counts.counts().map(WindowCount::toString).returns(Types.STRING))
                .executeAndCollect()
                .forEachRemaining(all::add);
        all.stream().filter(s -> s.startsWith("late:")).forEach(late::add);

        assertThat(late).containsExactly("late:late");
        assertThat(all).anyMatch(s -> s.startsWith("a [1970-01-01T00:00:00Z") && s.endsWith(": 1"));
        assertThat(all).anyMatch(s -> s.startsWith("a [1970-01-01T00:01:00Z") && s.endsWith(": 3"));
    }

    /** Emits a watermark at every event's timestamp (punctuated). */
    private static final class EveryEvent implements WatermarkGenerator<Tuple2<String, Long>> {
        @Override
        public void onEvent(Tuple2<String, Long> event, long timestamp, WatermarkOutput output) {
            output.emitWatermark(new Watermark(timestamp));
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {}
    }
}
