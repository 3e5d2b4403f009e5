package io.github.flinkkafkakit.examples;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

import java.io.StringWriter;

/**
 * Captures every log line (root logger at INFO, Kafka's client config dumps included) until closed,
 * so a test can assert that no secret reaches the logs.
 *
 * <pre>{@code
 * try (CapturedLogs logs = CapturedLogs.start()) {
 *     run = ExampleRun.of(...);
 *     assertThat(logs.text()).doesNotContain(password);
 * }
 * }</pre>
 */
final class CapturedLogs implements AutoCloseable {

    private static final String NAME = "capture";

    private final StringWriter text = new StringWriter();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final Appender appender;
    private final Level previous;

    private CapturedLogs() {
        appender =
                WriterAppender.newBuilder()
                        .setName(NAME)
                        .setTarget(text)
                        .setLayout(PatternLayout.newBuilder().withPattern("%c %m%n").build())
                        .build();
        appender.start();
        LoggerConfig root = context.getConfiguration().getRootLogger();
        previous = root.getLevel();
        root.addAppender(appender, Level.INFO, null);
        root.setLevel(Level.INFO);
        Configurator.setLevel("org.apache.kafka", Level.INFO);
        context.updateLoggers();
    }

    static CapturedLogs start() {
        return new CapturedLogs();
    }

    /** Everything logged so far. */
    String text() {
        return text.toString();
    }

    @Override
    public void close() {
        LoggerConfig root = context.getConfiguration().getRootLogger();
        root.removeAppender(NAME);
        root.setLevel(previous);
        Configurator.setLevel("org.apache.kafka", Level.ERROR);
        context.updateLoggers();
        appender.stop();
    }
}
