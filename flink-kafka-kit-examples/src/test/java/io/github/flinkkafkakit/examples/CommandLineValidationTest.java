package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Bad command lines for every example (issue #9, "bad input at the edges"): each ends with exit
 * code 2, one line {@code Error: …} naming the option and what it expects, the fixed {@code Run '…
 * --help'} hint, and no stack trace. No broker is needed: the command line is rejected before any
 * Kafka client or Flink environment is created.
 */
class CommandLineValidationTest {

    private static final List<String> EXAMPLES =
            List.of("count", "stateful-total", "enrich", "log-analytics", "page-views");

    @TempDir static Path dir;

    /** (example, arguments after the example name, texts the error line must contain). */
    static Stream<Arguments> invalidCommandLines() throws Exception {
        Path directory = Files.createDirectories(dir.resolve("a-directory.properties"));
        Path malformed = dir.resolve("malformed.properties");
        Files.writeString(malformed, "sasl.jaas.config=\\u12\n");
        String missing = dir.resolve("no-such-file.properties").toString();

        List<Arguments> cases = new ArrayList<>();
        for (String example : EXAMPLES) {
            add(
                    cases,
                    example,
                    "--parallelism abc",
                    "--parallelism",
                    "'abc' is not a whole number");
            add(
                    cases,
                    example,
                    "--parallelism 1.5",
                    "--parallelism",
                    "'1.5' is not a whole number");
            add(cases, example, "--parallelism -1", "--parallelism", "'-1' must be a positive");
            add(cases, example, "--parallelism 0", "--parallelism", "'0' must be a positive");
            add(
                    cases,
                    example,
                    "--parallelism 99999999999",
                    "--parallelism",
                    "'99999999999' is too large");
            add(cases, example, "--parallelism", "--parallelism", "Missing required parameter");
            add(
                    cases,
                    example,
                    "--parallelism 65",
                    "--parallelism 65 is more than a local run hosts (at most 64",
                    "flink run -p 65");
            add(
                    cases,
                    example,
                    "--guarantee twice",
                    "--guarantee",
                    "unknown guarantee 'twice' (expected exactly-once, at-least-once or none)");
            add(
                    cases,
                    example,
                    "--checkpoint-interval abc",
                    "--checkpoint-interval",
                    "'abc' is not a duration (examples: 500ms, 1s, 1min)");
            add(
                    cases,
                    example,
                    "--checkpoint-interval -5s",
                    "--checkpoint-interval",
                    "'-5s' must be a positive duration");
            add(
                    cases,
                    example,
                    "--checkpoint-interval 0ms",
                    "--checkpoint-interval",
                    "'0ms' must be a positive duration");
            add(
                    cases,
                    example,
                    "--checkpoint-interval 5parsecs",
                    "--checkpoint-interval",
                    "'5parsecs' is not a duration");
            add(
                    cases,
                    example,
                    "--kafka-config " + missing,
                    "--kafka-config",
                    missing + " does not exist");
            add(
                    cases,
                    example,
                    "--kafka-config " + directory,
                    "--kafka-config",
                    directory + " is a directory, expected a Kafka client properties file");
            add(
                    cases,
                    example,
                    "--kafka-config " + malformed,
                    "--kafka-config",
                    malformed + " is not a valid properties file");
            add(cases, example, "--kafka-config", "--kafka-config", "Missing required parameter");
            add(cases, example, "--no-such-option", "Unknown option: '--no-such-option'");
            add(cases, example, "--records -5", "--records", "'-5' must be a positive");
            add(cases, example, "--records 0", "--records", "'0' must be a positive");
            add(cases, example, "--records many", "--records", "'many' is not a whole number");
            add(cases, example, "--bootstrap-servers ''", "--bootstrap-servers must not be empty");
            add(
                    cases,
                    example,
                    "--bootstrap-servers foo",
                    "--bootstrap-servers: 'foo' is not HOST:PORT (expected HOST:PORT");
            add(
                    cases,
                    example,
                    "--bootstrap-servers 127.0.0.1:99999",
                    "--bootstrap-servers: '127.0.0.1:99999' has port 99999, expected 1-65535");
            add(
                    cases,
                    example,
                    "--bootstrap-servers localhost:9092,",
                    "--bootstrap-servers: '' is empty");
        }
        for (String example : List.of("log-analytics", "page-views")) {
            add(
                    cases,
                    example,
                    "--max-out-of-orderness later",
                    "--max-out-of-orderness",
                    "'later' is not a duration");
        }
        add(cases, "enrich", "--idleness soon", "--idleness", "'soon' is not a duration");
        add(cases, "enrich", "--idleness -1s", "--idleness", "'-1s' must be a positive duration");
        // The state module refuses delivery guarantee NONE; the command line names the fix.
        for (String example : List.of("stateful-total", "enrich")) {
            add(
                    cases,
                    example,
                    "--guarantee none",
                    "--guarantee none: this example keeps its state in Kafka, committed with each"
                            + " checkpoint: use --guarantee exactly-once (exact after restarts) or"
                            + " at-least-once");
        }
        add(cases, "page-views", "--top none", "--top", "'none' is not a whole number");
        add(cases, "page-views", "--top 0", "--top", "'0' must be a positive");
        cases.add(
                Arguments.of(
                        "nope",
                        List.of(),
                        List.of(
                                "unknown example 'nope' (expected one of: count, stateful-total,"
                                        + " enrich, log-analytics, page-views)")));
        cases.add(Arguments.of("", List.of(), List.of("Missing example name, e.g. 'count'")));
        cases.add(
                Arguments.of(
                        "--parallelism", List.of("2"), List.of("Unknown option: '--parallelism'")));
        return cases.stream();
    }

    private static void add(List<Arguments> cases, String example, String args, String... expect) {
        List<String> argv = new ArrayList<>();
        for (String arg : args.split(" ")) {
            argv.add(arg.equals("''") ? "" : arg);
        }
        cases.add(Arguments.of(example, argv, List.of(expect)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("invalidCommandLines")
    void shouldExitWith2AndOneLineNamingTheOption(
            String example, List<String> args, List<String> expected) {
        List<String> argv = new ArrayList<>();
        if (!example.isEmpty()) {
            argv.add(example);
        }
        argv.addAll(args);

        ExampleRun run = ExampleRun.of(argv.toArray(String[]::new));

        assertUsageError(run, expected);
    }

    @Test
    void shouldRejectAnUnreadableKafkaConfigFile() throws Exception {
        Path file = dir.resolve("secret.properties");
        Files.writeString(file, "security.protocol=SASL_SSL\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("-w-------"));
        assumeFalse(Files.isReadable(file), "running as root: every file is readable");

        for (String example : EXAMPLES) {
            ExampleRun run = ExampleRun.of(example, "--kafka-config", file.toString());

            assertUsageError(run, List.of("--kafka-config", file + " is not readable"));
        }
    }

    private static void assertUsageError(ExampleRun run, List<String> expected) {
        assertThat(run.exitCode()).as(run.all()).isEqualTo(Examples.EXIT_USAGE);
        List<String> lines = run.err().lines().toList();
        assertThat(lines).as(run.all()).hasSize(2);
        assertThat(lines.get(0)).startsWith("Error: ");
        for (String text : expected) {
            assertThat(lines.get(0)).contains(text);
        }
        assertThat(lines.get(1)).startsWith("Run '").endsWith(" --help' for the options.");
        assertThat(run.all())
                .doesNotContain("\tat ")
                .doesNotContain("Exception")
                .doesNotContain("Caused by");
        assertThat(run.out()).isEmpty();
    }
}
