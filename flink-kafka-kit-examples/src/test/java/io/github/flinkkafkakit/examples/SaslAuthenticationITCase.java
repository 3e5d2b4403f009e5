package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SASL_ADMIN_PASSWORD;
import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SASL_ADMIN_USER;
import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SASL_PLAIN_USER;
import static io.github.flinkkafkakit.testing.EmbeddedKafkaBroker.SASL_PLAIN_USER_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The count example against a broker whose listener requires SASL/PLAIN (with an ACL authorizer):
 * the right credentials give exact counts; a wrong password, an unknown user, no SASL settings and
 * a user without ACLs each end with one line naming the cause — and no password appears in anything
 * the CLI prints.
 */
class SaslAuthenticationITCase {

    private static final String WRONG_PASSWORD = "not-the-Pa55word";

    private static EmbeddedKafkaBroker broker;
    private static KafkaTestClient kafka;

    @TempDir static Path dir;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.startWithSaslPlain(Map.of());
        kafka = broker.client();
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
        broker.close();
    }

    private static void assertNoSecrets(ExampleRun run) {
        assertThat(run.all())
                .doesNotContain(SASL_ADMIN_PASSWORD)
                .doesNotContain(SASL_PLAIN_USER_PASSWORD)
                .doesNotContain(WRONG_PASSWORD);
    }

    @Test
    void shouldCountExactlyWithTheRightCredentials() throws Exception {
        String in = kafka.createUniqueTopic("sasl-in", 2);
        String out = KafkaTestClient.uniqueTopicName("sasl-out");
        kafka.produce(in, ExampleRun.thirteenKeys());
        Path good =
                ExampleRun.writeProperties(
                        dir,
                        "good",
                        KafkaConnection.builder()
                                .setBootstrapServers(broker.bootstrapServers())
                                .setSaslPlain(SASL_ADMIN_USER, SASL_ADMIN_PASSWORD)
                                .build()
                                .clientProperties());

        // Capture every log line of the run, with Kafka's client config dumps (INFO) switched on.
        ExampleRun run;
        String logs;
        try (CapturedLogs captured = CapturedLogs.start()) {
            run = ExampleRun.boundedCount(broker.bootstrapServers(), in, out, good);
            logs = captured.text();
        }

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(kafka.latestValuePerKey(out)).isEqualTo(ExampleRun.thirteenKeyCounts());
        assertNoSecrets(run);
        assertThat(logs)
                .as("client configs were logged, with the JAAS line hidden")
                .contains("sasl.jaas.config = [hidden]")
                .doesNotContain(SASL_ADMIN_PASSWORD);
    }

    @Test
    void shouldFailFastAndSayAuthenticationFailedForAWrongPassword() throws Exception {
        ExampleRun run =
                ExampleRun.boundedCount(
                        broker.bootstrapServers(),
                        "any-in",
                        "any-out",
                        ExampleRun.writeProperties(
                                dir,
                                "wrong",
                                EmbeddedKafkaBroker.saslPlainClientProperties(
                                        SASL_ADMIN_USER, WRONG_PASSWORD)));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("Error: Authentication failed at ");
        assertThat(run.err().lines().count()).isEqualTo(1);
        assertNoSecrets(run);
    }

    @Test
    void shouldSayAuthenticationFailedForAnUnknownUser() throws Exception {
        ExampleRun run =
                ExampleRun.boundedCount(
                        broker.bootstrapServers(),
                        "any-in",
                        "any-out",
                        ExampleRun.writeProperties(
                                dir,
                                "unknown",
                                EmbeddedKafkaBroker.saslPlainClientProperties(
                                        "mallory", WRONG_PASSWORD)));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("Error: Authentication failed at ");
        assertNoSecrets(run);
    }

    @Test
    void shouldPointAtSecurityProtocolWhenSaslSettingsAreMissing() {
        ExampleRun run =
                ExampleRun.boundedCount(broker.bootstrapServers(), "any-in", "any-out", null);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err())
                .startsWith("Error: Cannot reach Kafka at ")
                .contains("security.protocol");
    }

    @Test
    void shouldSayNotAuthorizedForAUserWithoutAcls() throws Exception {
        String in = kafka.createUniqueTopic("acl-in", 1);
        ExampleRun run =
                ExampleRun.boundedCount(
                        broker.bootstrapServers(),
                        in,
                        "acl-out",
                        ExampleRun.writeProperties(
                                dir,
                                "no-acls",
                                EmbeddedKafkaBroker.saslPlainClientProperties(
                                        SASL_PLAIN_USER, SASL_PLAIN_USER_PASSWORD)));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("Error: Not authorized to ");
        assertNoSecrets(run);
    }
}
