package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.errors.Stage;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Log analytics: JSON log lines → per service and 1-minute tumbling event-time window: {@code
 * count}, {@code errors} (level ERROR) and latency percentiles. Output key = service, value = JSON
 * {@code {"service","window_start","window_end","count","errors","latency_p50_ms",
 * "latency_p95_ms","latency_p99_ms"}} (times ISO-8601 UTC). Malformed lines (not JSON, missing or
 * invalid {@code ts} or {@code service}) go to the dead-letter topic while the job keeps running.
 *
 * <p>How to run:
 *
 * <ul>
 *   <li>Embedded broker, generated logs of six services over ten minutes with malformed lines mixed
 *       in, result table: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar log-analytics}
 *   <li>A real cluster, closing every window at the end of the input present now: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar log-analytics
 *       --bootstrap-servers localhost:9092 --input-topic logs --output-topic log-stats --dlq-topic
 *       logs-dlq --group-id log-analytics --bounded}
 *   <li>Continuously: drop {@code --bounded}; windows close when the watermark (the latest event
 *       time minus {@code --max-out-of-orderness}) passes their end; later lines go to the
 *       dead-letter topic as late.
 * </ul>
 *
 * <p>With {@code --bounded}, windows close only at the end of the input, so lines in any order are
 * counted exactly.
 */
@Command(
        name = "log-analytics",
        mixinStandardHelpOptions = true,
        description = {
            "JSON log lines -> per service and 1-minute event-time window: count, errors,"
                    + " latency percentiles. Malformed lines go to the dead-letter topic.",
            "Without --bootstrap-servers: embedded broker, generated logs, result table."
        })
public final class LogAnalyticsExample extends ExampleCommand<LogAnalyticsExample.Settings> {

    static final String DEFAULT_INPUT = "logs";
    static final String DEFAULT_OUTPUT = "log-stats";
    static final String DEFAULT_GROUP = "fkk-log-analytics";
    static final Duration WINDOW = Duration.ofMinutes(1);
    static final List<String> SERVICES =
            List.of("checkout", "search", "payments", "auth", "catalog", "shipping");
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(
            names = "--max-out-of-orderness",
            paramLabel = "DURATION",
            defaultValue = "10s",
            converter = CommonOptions.DurationConverter.class,
            description =
                    "Unbounded mode: how late a line may arrive and still be counted (default:"
                            + " ${DEFAULT-VALUE}).")
    Duration maxOutOfOrderness;

    @Option(
            names = "--records",
            paramLabel = "N",
            defaultValue = "50000",
            converter = CommonOptions.PositiveIntConverter.class,
            description = "Embedded mode only: log lines to generate (default: ${DEFAULT-VALUE}).")
    int sampleRecords;

    /** Settings of one run. */
    record Settings(
            String inputTopic,
            String outputTopic,
            String groupId,
            String dlqTopic,
            Guarantee guarantee,
            boolean bounded,
            Duration maxOutOfOrderness)
            implements ExampleCommand.Settings {}

    public LogAnalyticsExample() {
        super(
                DEFAULT_INPUT,
                DEFAULT_OUTPUT,
                DEFAULT_GROUP,
                "<input-topic>-dlq",
                LogAnalyticsExample::buildPipeline);
    }

    @Override
    Settings settings() {
        String input = inputTopic();
        Settings settings =
                new Settings(
                        input,
                        outputTopic(),
                        groupId(),
                        options.dlqTopic(input),
                        options.guarantee,
                        bounded(),
                        maxOutOfOrderness);
        requireOutputsDifferFromInput(
                input,
                "--output-topic and --dlq-topic",
                "",
                settings.outputTopic(),
                settings.dlqTopic());
        return settings;
    }

    @Override
    int runEmbedded(Settings settings) throws Exception {
        return new EmbeddedLogAnalytics(this, settings, sampleRecords).run();
    }

    @Override
    Texts texts(Settings s, KafkaConnection connection) {
        return new Texts(
                "log-analytics " + s.inputTopic(),
                "log-analytics: "
                        + s.inputTopic()
                        + " -> "
                        + s.outputTopic()
                        + " (dead letters: "
                        + s.dlqTopic()
                        + ") on "
                        + connection,
                "log-analytics: finished, window statistics in '" + s.outputTopic() + "'");
    }

    /** The job. Returns the source so a bounded run can commit its final offsets. */
    static KafkaIn<LogEvent> buildPipeline(
            StreamExecutionEnvironment env, KafkaConnection connection, Settings settings) {
        KafkaIn<LogEvent> in =
                KafkaIn.<LogEvent>builder()
                        .setConnection(connection)
                        .setTopics(settings.inputTopic())
                        .setGroupId(settings.groupId())
                        .setDeserializer(KafkaDeserializers.values(new LogEvent.LineSerde()))
                        .setErrorPolicy(ErrorPolicy.deadLetter(settings.dlqTopic()))
                        .setBounded(settings.bounded())
                        .build();
        // Bounded: windows close at the end of the input, so any order is counted exactly.
        WatermarkStrategy<LogEvent> watermarks =
                settings.bounded()
                        ? WatermarkStrategy.<LogEvent>noWatermarks()
                        : WatermarkStrategy.<LogEvent>forBoundedOutOfOrderness(
                                        settings.maxOutOfOrderness())
                                .withIdleness(Duration.ofSeconds(30));
        DataStream<LogEvent> events =
                in.createStream(
                        env,
                        watermarks.withTimestampAssigner((e, previous) -> e.timestamp),
                        "logs");
        OutputTag<LogEvent> late = new OutputTag<>("late", TypeInformation.of(LogEvent.class));
        SingleOutputStreamOperator<String> stats =
                events.keyBy(e -> e.service, Types.STRING)
                        .window(TumblingEventTimeWindows.of(WINDOW))
                        .sideOutputLateData(late)
                        .aggregate(
                                new LatencyStats.Aggregate(),
                                new ToJson(),
                                TypeInformation.of(LatencyStats.class),
                                TypeInformation.of(LatencyStats.class),
                                Types.STRING)
                        .name("stats per service and minute");
        KafkaOut.<String>builder()
                .setConnection(connection)
                .setTopic(settings.outputTopic())
                .setKey(LogAnalyticsExample::serviceOf, Serdes.string())
                .setValue(json -> json, Serdes.string())
                .setDeliveryGuarantee(settings.guarantee().delivery())
                .setTransactionalIdPrefix(settings.groupId() + "-" + settings.outputTopic())
                .setAutoCreateTopic(3)
                .build()
                .writeTo(stats);
        // Lines later than the watermark allows are not dropped: they go to the dead letters.
        DataStream<DeadLetter> lateLetters =
                stats.getSideOutput(late)
                        .map(LogAnalyticsExample::lateLetter)
                        .returns(TypeInformation.of(DeadLetter.class));
        KafkaOut.<DeadLetter>builder()
                .setConnection(connection)
                .setTopic(settings.dlqTopic())
                .setKey(d -> d.key, Serdes.bytes())
                .setValue(d -> d.value, Serdes.bytes())
                .setHeaders(DeadLetter::writeHeaders)
                .setDeliveryGuarantee(settings.guarantee().delivery())
                .setTransactionalIdPrefix(settings.groupId() + "-late-" + settings.dlqTopic())
                .setAutoCreateTopic(1)
                .build()
                .writeTo(lateLetters);
        return in;
    }

    private static String serviceOf(String json) {
        try {
            return JSON.readTree(json).get("service").asText();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static DeadLetter lateLetter(LogEvent event) {
        DeadLetter letter = new DeadLetter();
        letter.key = event.service.getBytes(StandardCharsets.UTF_8);
        letter.value =
                String.format(
                                Locale.ROOT,
                                "{\"ts\":\"%s\",\"service\":\"%s\",\"level\":\"%s\",\"latency_ms\":%d}",
                                Instant.ofEpochMilli(event.timestamp),
                                event.service,
                                event.level,
                                event.latencyMs)
                        .getBytes(StandardCharsets.UTF_8);
        letter.timestamp = event.timestamp;
        letter.setFailure(
                Stage.PROCESS,
                new IllegalStateException("late: its 1-minute window had already closed"));
        return letter;
    }

    /** Window result → output JSON. */
    static final class ToJson
            extends ProcessWindowFunction<LatencyStats, String, String, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(
                String service,
                Context context,
                Iterable<LatencyStats> results,
                Collector<String> out) {
            LatencyStats stats = results.iterator().next();
            ObjectNode node = JSON.createObjectNode();
            node.put("service", service);
            node.put("window_start", Instant.ofEpochMilli(context.window().getStart()).toString());
            node.put("window_end", Instant.ofEpochMilli(context.window().getEnd()).toString());
            node.put("count", stats.count);
            node.put("errors", stats.errors);
            node.put("latency_p50_ms", stats.percentile(0.50));
            node.put("latency_p95_ms", stats.percentile(0.95));
            node.put("latency_p99_ms", stats.percentile(0.99));
            out.collect(node.toString());
        }
    }
}
