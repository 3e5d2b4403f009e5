package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SASL_ADMIN_PASSWORD;
import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SCRAM_USER;
import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SCRAM_USER_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The count example against a broker whose listener accepts SASL/SCRAM (with an ACL authorizer): a
 * SCRAM-SHA-512 {@code --kafka-config} gives exact counts; a wrong SCRAM password ends within a
 * minute with one line saying authentication failed — and no password appears in anything the CLI
 * prints or logs.
 */
class ScramAuthenticationITCase {

    private static final String WRONG_PASSWORD = "not-the-5cram-Pa55word";

    private static EmbeddedKafkaBroker broker;
    private static KafkaTestClient kafka;

    @TempDir static Path dir;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.startWithSaslScram(Map.of());
        kafka = broker.client();
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
        broker.close();
    }

    private static void assertNoSecrets(String text) {
        assertThat(text)
                .doesNotContain(SCRAM_USER_PASSWORD)
                .doesNotContain(SASL_ADMIN_PASSWORD)
                .doesNotContain(WRONG_PASSWORD);
    }

    @Test
    void shouldCountExactlyWithScramSha512() throws Exception {
        String in = kafka.createUniqueTopic("scram-in", 2);
        String out = KafkaTestClient.uniqueTopicName("scram-out");
        kafka.produce(in, ExampleRun.thirteenKeys());
        Path scram =
                ExampleRun.writeProperties(
                        dir,
                        "scram",
                        KafkaConnection.builder()
                                .setBootstrapServers(broker.bootstrapServers())
                                .setSaslScram("SCRAM-SHA-512", SCRAM_USER, SCRAM_USER_PASSWORD)
                                .build()
                                .clientProperties());

        ExampleRun run;
        String logs;
        try (CapturedLogs captured = CapturedLogs.start()) {
            run = ExampleRun.boundedCount(broker.bootstrapServers(), in, out, scram);
            logs = captured.text();
        }

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(kafka.latestValuePerKey(out)).isEqualTo(ExampleRun.thirteenKeyCounts());
        assertNoSecrets(run.all());
        assertThat(logs)
                .as("client configs were logged, with the JAAS line hidden")
                .contains("sasl.mechanism = SCRAM-SHA-512")
                .contains("sasl.jaas.config = [hidden]");
        assertNoSecrets(logs);
    }

    @Test
    void shouldFailFastAndSayAuthenticationFailedForAWrongScramPassword() throws Exception {
        Path wrong =
                ExampleRun.writeProperties(
                        dir,
                        "wrong",
                        EmbeddedKafkaBroker.saslScramClientProperties(
                                "SCRAM-SHA-512", SCRAM_USER, WRONG_PASSWORD));

        long start = System.nanoTime();
        ExampleRun run =
                ExampleRun.boundedCount(broker.bootstrapServers(), "any-in", "any-out", wrong);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(took).isLessThan(Duration.ofSeconds(60));
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("Error: Authentication failed at ");
        assertThat(run.err().strip().lines().count()).as(run.err()).isEqualTo(1);
        assertNoSecrets(run.all());
    }
}
