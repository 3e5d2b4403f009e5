package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.count.Counts;
import io.github.flinkkafkakit.core.count.WindowCount;
import io.github.flinkkafkakit.core.count.WindowedCounts;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Real-time analytics: page views (record value = page path, event time = the Kafka record
 * timestamp) → views per page in 1-minute windows sliding every 15 seconds (the kit's windowed
 * counts), plus the top pages of each window.
 *
 * <ul>
 *   <li>{@code --output-topic}: key = page, value = {@code {"page","window_start","window_end",
 *       "views"}};
 *   <li>{@code <output-topic>-top}: key = window start, value = {@code {"window_start",
 *       "window_end","top":[{"page","views"},…]}} (the {@code --top} most viewed pages).
 * </ul>
 *
 * <p>How to run:
 *
 * <ul>
 *   <li>Embedded broker, ten minutes of generated views: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar page-views}
 *   <li>A real cluster: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar page-views --bootstrap-servers
 *       localhost:9092 --input-topic page-views --output-topic page-stats --group-id page-stats
 *       --bounded}
 * </ul>
 *
 * <p>With {@code --bounded} windows close at the end of the input; unbounded, when the watermark
 * ({@code --max-out-of-orderness} behind the latest view) passes them. Views later than that are
 * counted in the {@code late} line of the log, not silently dropped.
 */
@Command(
        name = "page-views",
        mixinStandardHelpOptions = true,
        description = {
            "Views per page in 1-minute windows sliding every 15 s, and the top pages per window.",
            "Without --bootstrap-servers: embedded broker, generated views, result table."
        })
public final class PageViewsExample extends ExampleCommand<PageViewsExample.Settings> {

    static final String DEFAULT_INPUT = "page-views";
    static final String DEFAULT_OUTPUT = "page-stats";
    static final String DEFAULT_GROUP = "fkk-page-views";
    static final Duration WINDOW = Duration.ofMinutes(1);
    static final Duration SLIDE = Duration.ofSeconds(15);

    @Option(
            names = "--top",
            paramLabel = "N",
            defaultValue = "5",
            converter = CommonOptions.PositiveIntConverter.class,
            description = "Pages per window in <output-topic>-top (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(
            names = "--max-out-of-orderness",
            paramLabel = "DURATION",
            defaultValue = "10s",
            converter = CommonOptions.DurationConverter.class,
            description = "Unbounded mode: how late a view may arrive (default: ${DEFAULT-VALUE}).")
    Duration maxOutOfOrderness;

    @Option(
            names = "--records",
            paramLabel = "N",
            defaultValue = "100000",
            converter = CommonOptions.PositiveIntConverter.class,
            description = "Embedded mode only: page views to generate (default: ${DEFAULT-VALUE}).")
    int sampleRecords;

    /** Settings of one run. */
    record Settings(
            String inputTopic,
            String outputTopic,
            String groupId,
            Guarantee guarantee,
            boolean bounded,
            Duration maxOutOfOrderness,
            int top)
            implements ExampleCommand.Settings {

        String topTopic() {
            return outputTopic + "-top";
        }
    }

    public PageViewsExample() {
        super(DEFAULT_INPUT, DEFAULT_OUTPUT, DEFAULT_GROUP, null, PageViewsExample::buildPipeline);
    }

    @Override
    Settings settings() {
        String input = inputTopic();
        Settings settings =
                new Settings(
                        input,
                        outputTopic(),
                        groupId(),
                        options.guarantee,
                        bounded(),
                        maxOutOfOrderness,
                        top);
        requireOutputsDifferFromInput(
                input, "--output-topic", "", settings.outputTopic(), settings.topTopic());
        return settings;
    }

    @Override
    int runEmbedded(Settings settings) throws Exception {
        return new EmbeddedPageViews(this, settings, sampleRecords).run();
    }

    @Override
    Texts texts(Settings s, KafkaConnection connection) {
        return new Texts(
                "page-views " + s.inputTopic(),
                "page-views: "
                        + s.inputTopic()
                        + " -> "
                        + s.outputTopic()
                        + ", "
                        + s.topTopic()
                        + " on "
                        + connection,
                "page-views: finished");
    }

    /** The job. Returns the source so a bounded run can commit its final offsets. */
    static KafkaIn<String> buildPipeline(
            StreamExecutionEnvironment env, KafkaConnection connection, Settings settings) {
        KafkaIn.Builder<String> builder =
                KafkaIn.<String>builder()
                        .setConnection(connection)
                        .setTopics(settings.inputTopic())
                        .setGroupId(settings.groupId())
                        .setDeserializer(KafkaDeserializers.values(Serdes.string()))
                        .setBounded(settings.bounded());
        // Event time = the Kafka record timestamp. Bounded: windows close at end of input only.
        if (settings.bounded()) {
            builder.setWatermarks(Duration.ofDays(3650), Duration.ofSeconds(30));
        } else {
            builder.setWatermarks(settings.maxOutOfOrderness(), Duration.ofSeconds(30));
        }
        KafkaIn<String> in = builder.build();
        DataStream<String> pages = in.createStream(env);

        WindowedCounts views =
                Counts.windowed(pages).sliding(WINDOW, SLIDE).setName("views per page").build();
        KafkaOut.<WindowCount>builder()
                .setConnection(connection)
                .setTopic(settings.outputTopic())
                .setKey(c -> c.key, Serdes.string())
                .setValue(PageViewsExample::toJson, Serdes.string())
                .setDeliveryGuarantee(settings.guarantee().delivery())
                .setTransactionalIdPrefix(settings.groupId() + "-" + settings.outputTopic())
                .setAutoCreateTopic(3)
                .build()
                .writeTo(views.counts());

        DataStream<String> topPages =
                views.counts()
                        .keyBy(c -> c.windowStart, Types.LONG)
                        .process(new TopPages(settings.top()))
                        .returns(Types.STRING)
                        .name("top pages per window");
        KafkaOut.<String>builder()
                .setConnection(connection)
                .setTopic(settings.topTopic())
                .setKey(PageViewsExample::windowStartOf, Serdes.string())
                .setValue(json -> json, Serdes.string())
                .setDeliveryGuarantee(settings.guarantee().delivery())
                .setTransactionalIdPrefix(settings.groupId() + "-" + settings.topTopic())
                .setAutoCreateTopic(1)
                .build()
                .writeTo(topPages);
        return in;
    }

    static String toJson(WindowCount c) {
        ObjectNode node = LogAnalyticsExample.JSON.createObjectNode();
        node.put("page", c.key);
        node.put("window_start", Instant.ofEpochMilli(c.windowStart).toString());
        node.put("window_end", Instant.ofEpochMilli(c.windowEnd).toString());
        node.put("views", c.count);
        return node.toString();
    }

    static String windowStartOf(String topJson) {
        try {
            return LogAnalyticsExample.JSON.readTree(topJson).get("window_start").asText();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Collects the counts of one window (keyed by window start) and, when the watermark passes the
     * window's end, emits its most viewed pages.
     */
    static final class TopPages extends KeyedProcessFunction<Long, WindowCount, String> {
        private static final long serialVersionUID = 1L;
        private final int top;
        private transient ListState<WindowCount> counts;

        TopPages(int top) {
            this.top = top;
        }

        @Override
        public void open(OpenContext context) {
            counts =
                    getRuntimeContext()
                            .getListState(
                                    new ListStateDescriptor<>(
                                            "counts", WindowedCounts.WINDOW_COUNT));
        }

        @Override
        public void processElement(WindowCount count, Context ctx, Collector<String> out)
                throws Exception {
            counts.add(count);
            ctx.timerService().registerEventTimeTimer(count.windowEnd - 1);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out)
                throws Exception {
            List<WindowCount> all = new ArrayList<>();
            counts.get().forEach(all::add);
            counts.clear();
            if (all.isEmpty()) {
                return;
            }
            all.sort(
                    Comparator.comparingLong((WindowCount c) -> c.count)
                            .reversed()
                            .thenComparing(c -> c.key));
            ObjectNode node = LogAnalyticsExample.JSON.createObjectNode();
            node.put("window_start", Instant.ofEpochMilli(all.get(0).windowStart).toString());
            node.put("window_end", Instant.ofEpochMilli(all.get(0).windowEnd).toString());
            ArrayNode pages = node.putArray("top");
            for (WindowCount c : all.subList(0, Math.min(top, all.size()))) {
                pages.addObject().put("page", c.key).put("views", c.count);
            }
            out.collect(node.toString());
        }
    }
}
