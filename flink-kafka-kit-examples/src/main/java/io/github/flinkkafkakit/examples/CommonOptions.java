package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;

import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The options every example shares (see DESIGN "External contracts"). Without {@code
 * --bootstrap-servers} an example starts an embedded broker and generates sample data.
 */
public final class CommonOptions {

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT",
            description =
                    "Kafka cluster to use. Absent: start an embedded broker, generate sample"
                            + " data and print the results.")
    String bootstrapServers;

    @Option(
            names = "--kafka-config",
            paramLabel = "FILE",
            description =
                    "Kafka client properties file (e.g. security.protocol, sasl.*, ssl.*) applied"
                            + " to every client.")
    Path kafkaConfig;

    @Option(names = "--input-topic", paramLabel = "TOPIC", description = "Topic to read.")
    String inputTopic;

    @Option(names = "--output-topic", paramLabel = "TOPIC", description = "Topic to write.")
    String outputTopic;

    @Option(
            names = "--group-id",
            paramLabel = "GROUP",
            description =
                    "Consumer group (offsets are committed under it) and prefix of the"
                            + " transactional ids.")
    String groupId;

    @Option(
            names = "--guarantee",
            paramLabel = "G",
            defaultValue = "exactly-once",
            converter = GuaranteeConverter.class,
            description = "exactly-once | at-least-once | none (default: ${DEFAULT-VALUE}).")
    Guarantee guarantee;

    @Option(
            names = "--bounded",
            description = "Read up to the end offsets present at start, commit everything, exit 0.")
    boolean bounded;

    @Option(
            names = "--parallelism",
            paramLabel = "N",
            defaultValue = "2",
            converter = PositiveIntConverter.class,
            description = "Parallelism of the job (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--checkpoint-interval",
            paramLabel = "DURATION",
            defaultValue = "1s",
            converter = DurationConverter.class,
            description =
                    "Checkpoint interval, Flink duration syntax: 500ms, 1s, 1min (default:"
                            + " ${DEFAULT-VALUE}). Exactly-once output becomes visible at each"
                            + " checkpoint.")
    Duration checkpointInterval;

    @Option(names = "--dlq-topic", paramLabel = "TOPIC", description = "Dead-letter topic.")
    String dlqTopic;

    @Option(
            names = "--web-ui",
            description =
                    "Serve Flink's web dashboard at http://localhost:8081 while the job runs (job"
                            + " graph, throughput, checkpoints).")
    boolean webUi;

    boolean embedded() {
        return bootstrapServers == null;
    }

    String inputTopic(String fallback) {
        return inputTopic != null ? inputTopic : fallback;
    }

    String outputTopic(String fallback) {
        return outputTopic != null ? outputTopic : fallback;
    }

    String groupId(String fallback) {
        return groupId != null ? groupId : fallback;
    }

    String dlqTopic(String input) {
        return dlqTopic != null ? dlqTopic : input + "-dlq";
    }

    /** Whether the embedded broker (the testing module) is on the classpath. */
    static boolean embeddedBrokerAvailable() {
        try {
            Class.forName(
                    "io.github.flinkkafkakit.testing.EmbeddedKafkaBroker",
                    false,
                    CommonOptions.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The job's Flink environment as the options ask for it. */
    StreamExecutionEnvironment environment(int parallelism, PrintWriter out) {
        if (webUi) {
            out.println(
                    "Flink web dashboard: http://localhost:"
                            + JobEnvironment.WEB_UI_PORT
                            + " (while the job runs)");
            out.flush();
        }
        return JobEnvironment.create(parallelism, guarantee, checkpointInterval, webUi);
    }

    /** Checks that need no cluster; throws a usage error (exit code 2) naming the option. */
    void validate(CommandLine commandLine) {
        if (bootstrapServers == null && !embeddedBrokerAvailable()) {
            throw new ParameterException(
                    commandLine,
                    "--bootstrap-servers is required: this is the job jar for `flink run`; the"
                            + " embedded broker is only in the runnable jar"
                            + " (flink-kafka-kit-examples.jar)");
        }
        if (kafkaConfig != null) {
            validateKafkaConfig(commandLine);
        }
        if (parallelism > JobEnvironment.MAX_LOCAL_PARALLELISM && JobEnvironment.runsLocally()) {
            throw new ParameterException(
                    commandLine,
                    "--parallelism "
                            + parallelism
                            + " is more than a local run hosts (at most "
                            + JobEnvironment.MAX_LOCAL_PARALLELISM
                            + ": every subtask is a thread of this JVM); use a smaller value, or"
                            + " run the job jar on a Flink cluster: flink run -p "
                            + parallelism
                            + " flink-kafka-kit-examples-job.jar …");
        }
        if (bootstrapServers != null && bootstrapServers.isBlank()) {
            throw new ParameterException(
                    commandLine, "--bootstrap-servers must not be empty (e.g. localhost:9092)");
        }
        if (bootstrapServers != null) {
            for (String server : bootstrapServers.split(",", -1)) {
                String problem = addressProblem(server.trim());
                if (problem != null) {
                    throw new ParameterException(
                            commandLine,
                            "--bootstrap-servers: '"
                                    + server.trim()
                                    + "' "
                                    + problem
                                    + " (expected HOST:PORT[,HOST:PORT...], e.g."
                                    + " localhost:9092)");
                }
            }
        }
    }

    /**
     * The {@code --kafka-config} file exists, is a readable file and parses, so a bad file is a
     * usage error before an embedded broker starts or a job is built (the file is read again by
     * {@link #connection}).
     */
    private void validateKafkaConfig(CommandLine commandLine) {
        String problem;
        if (Files.isDirectory(kafkaConfig)) {
            problem = "is a directory, expected a Kafka client properties file";
        } else if (!Files.exists(kafkaConfig)) {
            problem = "does not exist";
        } else if (!Files.isRegularFile(kafkaConfig)) {
            problem = "is not a regular file, expected a Kafka client properties file";
        } else if (!Files.isReadable(kafkaConfig)) {
            problem = "is not readable (check its permissions)";
        } else {
            try {
                KafkaConnection.builder().loadPropertiesFile(kafkaConfig);
                return;
            } catch (IllegalArgumentException e) {
                throw new ParameterException(commandLine, "--kafka-config: " + e.getMessage());
            }
        }
        throw new ParameterException(
                commandLine, "--kafka-config file " + kafkaConfig + " " + problem);
    }

    /** Optional listener name, host name / IPv4 / [IPv6], port: what Kafka clients accept. */
    private static final Pattern HOST_PORT =
            Pattern.compile("(?:[A-Za-z_]+://)?(\\[[0-9A-Fa-f:.%]+\\]|[0-9A-Za-z._%-]+):(\\d+)");

    /** Why {@code server} is not a usable bootstrap address, or null when it is one. */
    static String addressProblem(String server) {
        if (server.isEmpty()) {
            return "is empty";
        }
        Matcher m = HOST_PORT.matcher(server);
        if (!m.matches()) {
            return "is not HOST:PORT";
        }
        String port = m.group(2);
        if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            return "has port " + port + ", expected 1-65535";
        }
        return null;
    }

    /** The connection for {@code bootstrapServers} plus the {@code --kafka-config} file. */
    KafkaConnection connection(String bootstrap) {
        KafkaConnection.Builder builder = KafkaConnection.builder();
        if (kafkaConfig != null) {
            builder.loadPropertiesFile(kafkaConfig);
        }
        return builder.setBootstrapServers(bootstrap).build();
    }

    /** {@code off} (or {@code 0}): never; else a positive duration as {@link DurationConverter}. */
    static final class IdlenessConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.trim();
            if (v.equalsIgnoreCase("off") || v.equals("0")) {
                return Duration.ZERO;
            }
            return new DurationConverter().convert(value);
        }
    }

    /** Flink duration syntax ({@code 500ms}, {@code 1s}, {@code 1min}), positive. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            if (value.trim().startsWith("-")) {
                throw new TypeConversionException("'" + value + "' must be a positive duration");
            }
            Duration d;
            try {
                d = TimeUtils.parseDuration(value);
            } catch (RuntimeException e) {
                throw new TypeConversionException(
                        "'" + value + "' is not a duration (examples: 500ms, 1s, 1min)");
            }
            if (d.isZero() || d.isNegative()) {
                throw new TypeConversionException("'" + value + "' must be a positive duration");
            }
            return d;
        }
    }

    /** A positive int. */
    static final class PositiveIntConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n;
            try {
                n = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                String digits = value.trim();
                throw new TypeConversionException(
                        digits.matches("-\\d+")
                                ? "'" + value + "' must be a positive number"
                                : digits.matches("\\+?\\d+")
                                        ? "'"
                                                + value
                                                + "' is too large (at most "
                                                + Integer.MAX_VALUE
                                                + ")"
                                        : "'" + value + "' is not a whole number");
            }
            if (n <= 0) {
                throw new TypeConversionException("'" + value + "' must be a positive number");
            }
            return n;
        }
    }

    /** {@link Guarantee#parse}. */
    static final class GuaranteeConverter implements ITypeConverter<Guarantee> {
        @Override
        public Guarantee convert(String value) {
            try {
                return Guarantee.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
