package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ErrorPolicy#log()}: every malformed record is skipped and logged once with its position,
 * and no log line, of any logger, holds the record's key or value. The pills are ones whose parse
 * errors quote the input (a number parser and Jackson both put the offending text in their
 * messages), so a handler that logs the cause's message leaks the content.
 */
class ErrorPolicyLogITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** The event type of the JSON values. */
    public record Event(String id, int amount) {}

    private static final String KEY_SECRET = "KEYSECRET";
    private static final String VALUE_SECRET = "VALSECRET";
    private static final long KEY_BASE = 7_770_000_000L;

    @Test
    void shouldSkipAndLogThePositionButNeverTheContentOfAMalformedRecord() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("log-in", 1);
        String out = kafka.createUniqueTopic("log-out", 1);
        // Offset -> record; the pills' offsets are what the log must name.
        Map<Long, KeyValue<String, String>> records = new LinkedHashMap<>();
        Map<Long, KeyValue<String, String>> pills = new LinkedHashMap<>();
        for (int i = 0; i < 40; i++) {
            // Keys that cannot turn up in a log line by chance (unlike "12", also an offset).
            String key = Long.toString(KEY_BASE + i);
            KeyValue<String, String> record;
            switch (i) {
                case 5: // a key the number parser quotes
                    record = KeyValue.of(KEY_SECRET + "-k5", "{\"id\":\"e5\",\"amount\":5}");
                    break;
                case 12: // a bare word: Jackson quotes the token
                    record = KeyValue.of(key, VALUE_SECRET + "-v12 is not json");
                    break;
                case 20: // a string for an int: Jackson quotes the string
                    record =
                            KeyValue.of(
                                    key,
                                    "{\"id\":\"e20\",\"amount\":\"" + VALUE_SECRET + "-v20\"}");
                    break;
                case 33: // trailing garbage: Jackson quotes the token
                    record =
                            KeyValue.of(
                                    key, "{\"id\":\"e33\",\"amount\":33} " + VALUE_SECRET + "-v33");
                    break;
                default:
                    record = KeyValue.of(key, "{\"id\":\"e" + i + "\",\"amount\":" + i + "}");
            }
            records.put((long) i, record);
            if (record.key().contains(KEY_SECRET) || record.value().contains(VALUE_SECRET)) {
                pills.put((long) i, record);
            }
        }
        kafka.produce(in, records.values());

        String logs;
        try (CapturedLog capture = new CapturedLog()) {
            StreamExecutionEnvironment env = env();
            DataStream<Tuple2<Long, Event>> events =
                    KafkaIn.<Tuple2<Long, Event>>builder()
                            .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                            .setTopics(in)
                            .setGroupId("g-" + in)
                            .setDeserializer(
                                    KafkaDeserializers.keyValues(
                                            Serdes.longAsText(), JsonSerde.of(Event.class)))
                            .setErrorPolicy(ErrorPolicy.log())
                            .setBounded(true)
                            .build()
                            .createStream(env);
            KafkaOut.<Tuple2<Long, Event>>builder()
                    .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                    .setTopic(out)
                    .setKey(t -> Long.toString(t.f0), Serdes.string())
                    .setValue(t -> t.f1.id(), Serdes.string())
                    .setTransactionalIdPrefix("tx-" + out)
                    .build()
                    .writeTo(events);
            env.execute("log policy");
            logs = capture.text();
        }

        // Skipped: the output is every other record, once.
        Map<String, String> expected = new LinkedHashMap<>();
        records.forEach(
                (offset, r) -> {
                    if (!pills.containsKey(offset)) {
                        expected.put(r.key(), "e" + offset);
                    }
                });
        List<ConsumerRecord<String, String>> written = kafka.consumeAll(out, Duration.ZERO);
        assertThat(
                        written.stream()
                                .collect(
                                        Collectors.toMap(
                                                ConsumerRecord::key, ConsumerRecord::value)))
                .hasSize(written.size())
                .isEqualTo(expected);

        // Logged: one line per pill, naming its position.
        List<String> skipLines =
                logs.lines()
                        .filter(l -> l.contains("Skipping record"))
                        .collect(Collectors.toList());
        List<String> positions = new ArrayList<>();
        pills.keySet().forEach(offset -> positions.add(in + "-0@" + offset + " "));
        assertThat(skipLines).as(logs).hasSize(pills.size());
        for (String position : positions) {
            assertThat(skipLines).as("a line for %s", position).anyMatch(l -> l.contains(position));
        }

        // Never the content, in any logger's lines.
        assertThat(logs).doesNotContain(KEY_SECRET).doesNotContain(VALUE_SECRET);
        for (KeyValue<String, String> pill : pills.values()) {
            assertThat(logs).doesNotContain(pill.key()).doesNotContain(pill.value());
        }
    }

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(200);
        return env;
    }

    /**
     * Every line logged while open: the kit's loggers at every level, all others at INFO and above
     * (where their configured level lets them through).
     */
    static final class CapturedLog implements AutoCloseable {
        private static final String NAME = "capture-log-policy";
        private static final String KIT = "io.github.flinkkafkakit";

        private final StringWriter text = new StringWriter();
        private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
        private final WriterAppender appender;
        private final Level rootLevel;

        CapturedLog() {
            appender =
                    WriterAppender.newBuilder()
                            .setName(NAME)
                            .setTarget(text)
                            .setLayout(
                                    PatternLayout.newBuilder()
                                            .withPattern("%p %c %m %ex%n")
                                            .build())
                            .build();
            appender.start();
            LoggerConfig root = context.getConfiguration().getRootLogger();
            rootLevel = root.getLevel();
            root.addAppender(appender, Level.ALL, null);
            root.setLevel(Level.INFO);
            LoggerConfig kit = new LoggerConfig(KIT, Level.ALL, false);
            kit.addAppender(appender, Level.ALL, null);
            context.getConfiguration().addLogger(KIT, kit);
            context.updateLoggers();
        }

        String text() {
            synchronized (text) {
                return text.toString();
            }
        }

        @Override
        public void close() {
            LoggerConfig root = context.getConfiguration().getRootLogger();
            root.removeAppender(NAME);
            root.setLevel(rootLevel);
            context.getConfiguration().removeLogger(KIT);
            context.updateLoggers();
            appender.stop();
        }
    }
}
