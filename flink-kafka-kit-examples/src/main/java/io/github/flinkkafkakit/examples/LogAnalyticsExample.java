package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.errors.Stage;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

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

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;

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
public final class LogAnalyticsExample implements Callable<Integer> {

    static final String DEFAULT_INPUT = "logs";
    static final String DEFAULT_OUTPUT = "log-stats";
    static final String DEFAULT_GROUP = "fkk-log-analytics";
    static final Duration WINDOW = Duration.ofMinutes(1);
    static final List<String> SERVICES =
            List.of("checkout", "search", "payments", "auth", "catalog", "shipping");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec CommandSpec spec;

    @Mixin CommonOptions options;

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

    private PrintWriter out;

    /** Settings of one run. */
    record Settings(
            String inputTopic,
            String outputTopic,
            String groupId,
            String dlqTopic,
            Guarantee guarantee,
            boolean bounded,
            Duration maxOutOfOrderness) {}

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        String input = options.inputTopic(DEFAULT_INPUT);
        Settings settings =
                new Settings(
                        input,
                        options.outputTopic(DEFAULT_OUTPUT),
                        options.groupId(DEFAULT_GROUP),
                        options.dlqTopic(input),
                        options.guarantee,
                        options.bounded || options.embedded(),
                        maxOutOfOrderness);
        if (input.equals(settings.outputTopic()) || input.equals(settings.dlqTopic())) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--output-topic and --dlq-topic must differ from --input-topic ('"
                            + input
                            + "')");
        }
        options.validate(spec.commandLine());
        return options.embedded() ? runEmbedded(settings) : runOnCluster(settings);
    }

    private int runOnCluster(Settings settings) throws Exception {
        KafkaConnection connection = options.connection(options.bootstrapServers);
        out.println(
                "log-analytics: "
                        + settings.inputTopic()
                        + " -> "
                        + settings.outputTopic()
                        + " (dead letters: "
                        + settings.dlqTopic()
                        + ") on "
                        + connection);
        out.flush();
        StreamExecutionEnvironment env = options.environment(options.parallelism, out);
        KafkaIn<LogEvent> in = buildPipeline(env, connection, settings);
        try (Progress progress = Progress.of(out, connection, settings.groupId(), in)) {
            env.execute("log-analytics " + settings.inputTopic());
        }
        in.commitStoppingOffsets();
        out.println(
                "log-analytics: finished, window statistics in '" + settings.outputTopic() + "'");
        return 0;
    }

    /** The expected (count, errors) per "service|window start", and the malformed line count. */
    record Expected(Map<String, long[]> windows, long malformed) {}

    private int runEmbedded(Settings settings) throws Exception {
        out.println("Starting an embedded Kafka broker ...");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
                KafkaTestClient kafka = broker.client()) {
            kafka.createTopic(settings.inputTopic(), 3);
            kafka.createTopic(settings.outputTopic(), 3);
            Expected expected = writeSampleLogs(kafka, settings.inputTopic());
            out.printf(
                    Locale.ROOT,
                    "Wrote %,d log lines of %d services over 10 minutes (%,d malformed) to '%s'%n",
                    sampleRecords,
                    SERVICES.size(),
                    expected.malformed(),
                    settings.inputTopic());
            out.flush();
            StreamExecutionEnvironment env = options.environment(options.parallelism, out);
            KafkaConnection connection = options.connection(broker.bootstrapServers());
            KafkaIn<LogEvent> in = buildPipeline(env, connection, settings);
            long start = System.nanoTime();
            try (Progress progress = Progress.of(out, connection, settings.groupId(), in)) {
                env.execute("log-analytics " + settings.inputTopic());
            }
            double seconds = (System.nanoTime() - start) / 1e9;

            Map<String, JsonNode> actual = new TreeMap<>();
            for (ConsumerRecord<String, String> r : kafka.consumeAll(settings.outputTopic())) {
                JsonNode node = JSON.readTree(r.value());
                actual.put(
                        node.get("service").asText() + "|" + node.get("window_start").asText(),
                        node);
            }
            long deadLetters =
                    kafka.consumeAllBytes(settings.dlqTopic(), KafkaTestClient.DEFAULT_IDLE).size();
            return printResult(expected, actual, deadLetters, seconds);
        }
    }

    private Expected writeSampleLogs(KafkaTestClient kafka, String topic) {
        Random random = new Random(5);
        Instant base = Instant.parse("2026-11-24T10:00:00Z");
        Map<String, long[]> windows = new TreeMap<>();
        long malformed = 0;
        String[] levels = {"INFO", "INFO", "INFO", "WARN", "ERROR"};
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (int i = 0; i < sampleRecords; i++) {
                String service = SERVICES.get(Math.min(random.nextInt(8), SERVICES.size() - 1));
                Instant ts =
                        base.plusMillis((long) i * 600_000 / sampleRecords + random.nextInt(3000));
                String line;
                if (random.nextInt(100) == 0) {
                    malformed++;
                    line = malformedLine(random.nextInt(4), ts, service);
                } else {
                    String level = levels[random.nextInt(levels.length)];
                    long latency = (long) (20 * Math.exp(random.nextGaussian()));
                    line =
                            String.format(
                                    Locale.ROOT,
                                    "{\"ts\":\"%s\",\"service\":\"%s\",\"level\":\"%s\","
                                            + "\"latency_ms\":%d,\"msg\":\"request %d\"}",
                                    ts,
                                    service,
                                    level,
                                    latency,
                                    i);
                    long windowStart = ts.toEpochMilli() - ts.toEpochMilli() % WINDOW.toMillis();
                    long[] cell =
                            windows.computeIfAbsent(
                                    service + "|" + Instant.ofEpochMilli(windowStart),
                                    k -> new long[2]);
                    cell[0]++;
                    if (level.equals("ERROR")) {
                        cell[1]++;
                    }
                }
                batch.send(service, line);
            }
        }
        return new Expected(windows, malformed);
    }

    private static String malformedLine(int kind, Instant ts, String service) {
        switch (kind) {
            case 0:
                return "GET /checkout 500 12ms"; // not JSON
            case 1:
                return "{\"service\":\"" + service + "\",\"level\":\"INFO\"}"; // no ts
            case 2:
                return "{\"ts\":\"yesterday\",\"service\":\"" + service + "\"}"; // invalid ts
            default:
                return "{\"ts\":\"" + ts + "\",\"level\":\"ERROR\"}"; // no service
        }
    }

    private int printResult(
            Expected expected, Map<String, JsonNode> actual, long deadLetters, double seconds) {
        out.println();
        out.println("Per service and minute (first 12 of " + actual.size() + " windows):");
        ResultTable table =
                new ResultTable("service", "window_start", "count", "errors", "p50", "p95", "p99");
        actual.values().stream()
                .sorted(
                        (a, b) ->
                                a.get("window_start")
                                        .asText()
                                        .compareTo(b.get("window_start").asText()))
                .limit(12)
                .forEach(
                        n ->
                                table.add(
                                        n.get("service").asText(),
                                        n.get("window_start").asText(),
                                        n.get("count").asLong(),
                                        n.get("errors").asLong(),
                                        n.get("latency_p50_ms").asLong() + " ms",
                                        n.get("latency_p95_ms").asLong() + " ms",
                                        n.get("latency_p99_ms").asLong() + " ms"));
        table.print(out);
        long wrong = 0;
        for (Map.Entry<String, long[]> e : expected.windows().entrySet()) {
            JsonNode n = actual.get(e.getKey());
            if (n == null
                    || n.get("count").asLong() != e.getValue()[0]
                    || n.get("errors").asLong() != e.getValue()[1]) {
                wrong++;
            }
        }
        boolean exact =
                wrong == 0
                        && actual.size() == expected.windows().size()
                        && deadLetters == expected.malformed();
        out.println();
        out.printf(
                Locale.ROOT,
                "records in: %,d | records out: %,d | dead letters: %,d | %.1f s (%,.0f records/s)"
                        + " | %s%n",
                sampleRecords,
                actual.size(),
                deadLetters,
                seconds,
                sampleRecords / seconds,
                exact
                        ? "all " + actual.size() + " windows exact"
                        : wrong + " windows wrong, dead letters expected " + expected.malformed());
        return exact ? 0 : Examples.EXIT_FAILURE;
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
