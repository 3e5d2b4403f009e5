package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad command lines: exit code 2, one clear line naming the option, no stack trace. */
class CountCommandLineTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "count --parallelism -1       | '-1' must be a positive number",
                "count --parallelism abc      | 'abc' is not a whole number",
                "count --parallelism 0        | '0' must be a positive number",
                "count --guarantee twice      | unknown guarantee 'twice' (expected exactly-once, at-least-once or none)",
                "count --checkpoint-interval soon | 'soon' is not a duration (examples: 500ms, 1s, 1min)",
                "count --checkpoint-interval 0ms  | '0ms' must be a positive duration",
                "count --no-such-option       | Unknown option: '--no-such-option'",
                "count --emit sometimes       | unknown emit policy 'sometimes' (expected every-record or on-checkpoint)",
                "nope                         | unknown example 'nope' (expected one of: count, stateful-total, enrich, log-analytics, page-views)",
                "count --kafka-config /no/such/file.properties | --kafka-config file /no/such/file.properties does not exist",
                "count --input-topic x --output-topic x | --output-topic must differ from --input-topic ('x')",
                "count --bootstrap-servers 127.0.0.1:1 --input-topic x --output-topic x | feedback loop",
            })
    void shouldRejectWithExitCode2AndOneClearLine(String commandLine, String expected) {
        ExampleRun run = ExampleRun.of(commandLine.trim().split("\\s+"));

        assertThat(run.exitCode()).as(run.all()).isEqualTo(2);
        assertThat(run.err())
                .contains(expected)
                .doesNotContain("\tat ")
                .doesNotContain("Exception");
        assertThat(run.err().lines().findFirst().orElse("")).startsWith("Error: ");
    }

    @Test
    void shouldListEveryOptionInHelp() {
        ExampleRun run = ExampleRun.of("count", "--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out())
                .contains(
                        "--bootstrap-servers",
                        "--kafka-config",
                        "--input-topic",
                        "--output-topic",
                        "--group-id",
                        "--guarantee",
                        "--bounded",
                        "--parallelism",
                        "--checkpoint-interval",
                        "--emit",
                        "--web-ui");
    }

    @ParameterizedTest(name = "{0} --help")
    @CsvSource({
        "count, --dlq-topic",
        "page-views, --dlq-topic",
        "enrich, --input-topic",
    })
    void shouldSayWhichCommonOptionsTheExampleDoesNotUse(String example, String unused) {
        ExampleRun run = ExampleRun.of(example, "--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out().lines().filter(line -> line.trim().startsWith(unused)))
                .singleElement()
                .asString()
                .contains("Not used by " + example + ".");
    }

    @ParameterizedTest(name = "{0} --help")
    @MethodSource("defaultTopicsAndGroups")
    void shouldShowTheExamplesDefaultTopicsAndGroupInHelp(String example, List<String> defaults) {
        ExampleRun run = ExampleRun.of(example, "--help");

        assertThat(run.exitCode()).isZero();
        String help = run.out().replaceAll("\\s+", " ");
        for (String expected : defaults) {
            assertThat(help).contains(expected);
        }
    }

    static Stream<Arguments> defaultTopicsAndGroups() {
        return Stream.of(
                Arguments.of(
                        "count",
                        List.of(
                                "--input-topic=TOPIC Topic to read (default: "
                                        + CountExample.DEFAULT_INPUT
                                        + ")",
                                "Topic to write (default: " + CountExample.DEFAULT_OUTPUT + ")",
                                "(default: " + CountExample.DEFAULT_GROUP + ")")),
                Arguments.of(
                        "page-views",
                        List.of(
                                "Topic to read (default: " + PageViewsExample.DEFAULT_INPUT + ")",
                                "Topic to write (default: " + PageViewsExample.DEFAULT_OUTPUT + ")",
                                "(default: " + PageViewsExample.DEFAULT_GROUP + ")")),
                Arguments.of(
                        "log-analytics",
                        List.of(
                                "Topic to read (default: "
                                        + LogAnalyticsExample.DEFAULT_INPUT
                                        + ")",
                                "Topic to write (default: "
                                        + LogAnalyticsExample.DEFAULT_OUTPUT
                                        + ")",
                                "(default: " + LogAnalyticsExample.DEFAULT_GROUP + ")",
                                "Dead-letter topic (default: <input-topic>-dlq)")),
                Arguments.of(
                        "stateful-total",
                        List.of(
                                "Topic to read (default: "
                                        + StatefulTotalExample.DEFAULT_INPUT
                                        + ")",
                                "Topic to write (default: "
                                        + StatefulTotalExample.DEFAULT_OUTPUT
                                        + ")",
                                "(default: " + StatefulTotalExample.DEFAULT_GROUP + ")",
                                "Dead-letter topic (default: <input-topic>-dlq)")),
                Arguments.of(
                        "enrich",
                        List.of(
                                "Topic to write (default: " + EnrichExample.DEFAULT_OUTPUT + ")",
                                "(default: " + EnrichExample.DEFAULT_GROUP + ")",
                                "Dead-letter topic (default: <clicks-topic>-dlq)")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"nosuch", "nosuch --help", "nosuch count --help"})
    void shouldRejectAnUnknownExampleAlsoWithHelp(String commandLine) {
        ExampleRun run = ExampleRun.of(commandLine.split(" "));

        assertThat(run.exitCode()).as(run.all()).isEqualTo(Examples.EXIT_USAGE);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines().findFirst().orElse(""))
                .isEqualTo(
                        "Error: unknown example 'nosuch' (expected one of: count, stateful-total,"
                                + " enrich, log-analytics, page-views)");
    }

    @Test
    void shouldListTheExamplesInTopLevelHelp() {
        ExampleRun run = ExampleRun.of("--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("count");
    }

    @Test
    void shouldFailFastWithOneLineWhenTheBrokerIsUnreachable() {
        ExampleRun run =
                ExampleRun.of(
                        "count",
                        "--bootstrap-servers",
                        "127.0.0.1:1",
                        "--bounded",
                        "--input-topic",
                        "in",
                        "--output-topic",
                        "out");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err())
                .startsWith("Error: Cannot reach Kafka at 127.0.0.1:1: no broker answered within")
                .doesNotContain("\tat ");
        assertThat(run.err().lines().count()).isEqualTo(1);
    }
}
