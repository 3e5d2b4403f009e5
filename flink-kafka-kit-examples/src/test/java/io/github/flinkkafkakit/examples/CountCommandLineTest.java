package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
                        "--dlq-topic",
                        "--emit",
                        "--web-ui");
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
