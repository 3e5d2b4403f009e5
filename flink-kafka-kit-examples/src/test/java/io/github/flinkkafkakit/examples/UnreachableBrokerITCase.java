package io.github.flinkkafkakit.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Every example given a {@code --bootstrap-servers} where nothing listens ends on its own — no
 * retrying forever — with exit code 1 and one line naming the address, and no stack trace. Runs
 * in-process through {@link Examples#run}; the 60 s limit is the hang guard, not a timing assert.
 */
class UnreachableBrokerITCase {

    private static final Duration HANG_GUARD = Duration.ofSeconds(60);

    /** A local port nothing listens on: opened by the OS, then closed again. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "count,          ''",
        "count,          --bounded",
        "stateful-total, ''",
        "log-analytics,  ''",
        "page-views,     ''",
    })
    void shouldExitWithOneLineNamingTheUnreachableBroker(String example, String mode)
            throws Exception {
        String address = "127.0.0.1:" + closedPort();
        List<String> args = new ArrayList<>(List.of(example, "--bootstrap-servers", address));
        if (!mode.isEmpty()) {
            args.add(mode);
        }

        ExampleRun run =
                assertTimeoutPreemptively(
                        HANG_GUARD,
                        () -> ExampleRun.of(args.toArray(String[]::new)),
                        () -> example + " did not end within " + HANG_GUARD + " (hangs/retries)");

        assertThat(run.exitCode()).as(run.all()).isEqualTo(Examples.EXIT_FAILURE);
        assertThat(run.err().lines().toList())
                .as(run.all())
                .singleElement()
                .asString()
                .startsWith("Error: Cannot reach Kafka at " + address + ": ")
                .contains("no broker answered")
                .contains("--bootstrap-servers");
        assertNoStackTrace(run);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"count", "stateful-total", "log-analytics", "page-views"})
    void shouldExitWithOneLineNamingAHostThatDoesNotResolve(String example) {
        String address = "no-such-host.invalid:9092";

        ExampleRun run =
                assertTimeoutPreemptively(
                        HANG_GUARD,
                        () -> ExampleRun.of(example, "--bootstrap-servers", address),
                        () -> example + " did not end within " + HANG_GUARD + " (hangs/retries)");

        assertThat(run.exitCode()).as(run.all()).isEqualTo(Examples.EXIT_FAILURE);
        assertThat(run.err().lines().toList())
                .as(run.all())
                .singleElement()
                .asString()
                .startsWith("Error: Cannot create a Kafka client for bootstrap.servers=" + address)
                .contains("No resolvable bootstrap urls");
        assertNoStackTrace(run);
    }

    private static void assertNoStackTrace(ExampleRun run) {
        assertThat(run.all())
                .doesNotContain("\tat ")
                .doesNotContain("Exception")
                .doesNotContain("Caused by");
    }
}
