package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code fkk.errors.*} counters reach Flink's metric reporters, registered once per operator
 * instance with the counts of that instance.
 */
class ErrorMetricsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static long sum(Map<String, Metric> metrics, String suffix) {
        return metrics.entrySet().stream()
                .filter(e -> e.getKey().endsWith(suffix))
                .mapToLong(e -> ((Counter) e.getValue()).getCount())
                .sum();
    }

    @Test
    void shouldReportSkippedRecordsOfTheDeserializeStage() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("metrics", 2);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(KeyValue.of("k" + i, i % 10 == 3 ? "not a number " + i : "" + i));
        }
        kafka.produce(in, records);

        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics();
        Configuration conf = reporter.addToConfiguration(new Configuration());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        KafkaIn.<Long>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(in)
                .setDeserializer(KafkaDeserializers.values(Serdes.longAsText()))
                .setErrorPolicy(ErrorPolicy.skip())
                .setBounded(true)
                .build()
                .createStream(env)
                .map(v -> v, Types.LONG)
                .sinkTo(new DiscardingSink<>());
        JobExecutionResult result = env.execute("metrics");

        Map<String, Metric> metrics = reporter.getMetricsByIdentifiers(result.getJobID());
        assertThat(metrics.keySet()).anyMatch(name -> name.endsWith("fkk.errors.skipped"));
        assertThat(sum(metrics, "fkk.errors.skipped")).isEqualTo(4);
        assertThat(sum(metrics, "fkk.errors.logged")).isZero();
        assertThat(sum(metrics, "fkk.errors.deadLettered")).isZero();
    }

    /**
     * An exactly-once sink whose value extractor fails for some elements dead-letters them: each
     * writer subtask registers {@code fkk.errors.skipped|logged|deadLettered} once, the reported
     * {@code deadLettered} counts add up to the dead letters, and no "Name collision" is logged for
     * them. (The connector's exactly-once writer opens the record serializer twice; the second
     * registration used to be refused, and the kit then counted into the refused counters.)
     */
    @Test
    void shouldRegisterTheSinkCountersOncePerWriterWithTheDeadLetterCount() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String out = kafka.createUniqueTopic("metrics-out", 2);
        String dlq = kafka.createUniqueTopic("metrics-dlq", 1);
        int parallelism = 2;
        int elements = 60;
        long bad = LongStream.range(0, elements).filter(i -> i % 7 == 0).count();

        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics();
        Configuration conf = reporter.addToConfiguration(new Configuration());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(200);
        KafkaOut.<Long>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopic(out)
                .setValue(
                        i -> {
                            if (i % 7 == 0) {
                                throw new IllegalArgumentException("multiple of 7: " + i);
                            }
                            return Long.toString(i);
                        },
                        Serdes.string())
                .setErrorPolicy(ErrorPolicy.deadLetter(dlq))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("metrics-" + out)
                .build()
                .writeTo(env.fromSequence(0, elements - 1));

        Map<String, Metric> metrics;
        String logs;
        try (CollisionLog log = CollisionLog.start()) {
            JobExecutionResult result = env.execute("sink metrics");
            metrics = reporter.getMetricsByIdentifiers(result.getJobID());
            logs = log.text();
        }

        for (String counter : List.of("skipped", "logged", "deadLettered")) {
            List<String> names =
                    metrics.keySet().stream()
                            .filter(
                                    n ->
                                            n.contains("Writer")
                                                    && n.endsWith(".fkk.errors." + counter))
                            .collect(Collectors.toList());
            assertThat(names).as("one %s counter per writer subtask", counter).hasSize(parallelism);
        }
        assertThat(sum(metrics, "fkk.errors.deadLettered")).isEqualTo(bad);
        assertThat(sum(metrics, "fkk.errors.skipped")).isZero();
        assertThat(sum(metrics, "fkk.errors.logged")).isZero();
        assertThat(logs)
                .as("the capture sees Flink's metric group warnings")
                .contains("CollisionLog started");
        assertThat(logs.lines().filter(l -> l.contains("Name collision")))
                .as("name collisions of the kit's metrics")
                .noneMatch(l -> l.contains(", fkk, errors]"));
        assertThat(kafka.consumeAll(dlq)).hasSize((int) bad);
        assertThat(kafka.consumeAll(out)).hasSize((int) (elements - bad));
    }

    /**
     * Captures the WARN lines of Flink's metric groups (silenced in log4j2-test.properties) while
     * open.
     */
    private static final class CollisionLog implements AutoCloseable {
        private static final String NAME = "collision-capture";
        private static final List<String> LOGGERS =
                List.of("org.apache.flink.metrics", "org.apache.flink.runtime.metrics");

        private final StringWriter text = new StringWriter();
        private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
        private final Appender appender;
        private final Map<String, Level> previous = new HashMap<>();

        private CollisionLog() {
            appender =
                    WriterAppender.newBuilder()
                            .setName(NAME)
                            .setTarget(text)
                            .setLayout(PatternLayout.newBuilder().withPattern("%c %m%n").build())
                            .build();
            appender.start();
            for (String name : LOGGERS) {
                LoggerConfig config = context.getConfiguration().getLoggerConfig(name);
                previous.put(name, config.getLevel());
                config.addAppender(appender, Level.WARN, null);
                config.setLevel(Level.WARN);
            }
            context.updateLoggers();
            LogManager.getLogger(LOGGERS.get(0)).warn("CollisionLog started");
        }

        static CollisionLog start() {
            return new CollisionLog();
        }

        String text() {
            return text.toString();
        }

        @Override
        public void close() {
            for (String name : LOGGERS) {
                LoggerConfig config = context.getConfiguration().getLoggerConfig(name);
                config.removeAppender(NAME);
                config.setLevel(previous.get(name));
            }
            context.updateLoggers();
            appender.stop();
        }
    }
}
