package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.TlsMaterial;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The count example against a broker whose client listener speaks TLS with a certificate made at
 * test time: a {@code --kafka-config} with {@code security.protocol=SSL} and a trust store that
 * trusts the broker gives exact counts (read back with read_committed); a trust store that does
 * not, or none at all, ends within a minute with one line naming SSL — and no store password
 * appears in anything the CLI prints or logs.
 */
class TlsITCase {

    private static EmbeddedKafkaBroker broker;
    private static KafkaTestClient kafka;
    private static TlsMaterial stranger;

    @TempDir static Path dir;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.startWithSsl(Map.of());
        kafka = broker.client();
        // A second self-signed identity: its trust store does not trust the broker.
        stranger = TlsMaterial.generate("stranger");
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
        broker.close();
        stranger.close();
    }

    private static void assertNoSecrets(String text) {
        TlsMaterial tls = broker.tlsMaterial();
        assertThat(text)
                .doesNotContain(tls.trustStorePassword())
                .doesNotContain(tls.keyStorePassword())
                .doesNotContain(stranger.trustStorePassword());
    }

    /** Runs count with {@code props} and checks the failure: fast, one line, naming SSL. */
    private static ExampleRun assertFailsNamingSsl(String name, Properties props) throws Exception {
        long start = System.nanoTime();
        ExampleRun run =
                ExampleRun.boundedCount(
                        broker.bootstrapServers(),
                        "any-in",
                        "any-out",
                        ExampleRun.writeProperties(dir, name, props));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(took).isLessThan(Duration.ofSeconds(60));
        assertThat(run.exitCode()).as(run.all()).isEqualTo(1);
        assertThat(run.err()).startsWith("Error: ").contains("SSL");
        assertThat(run.err().strip().lines().count()).as(run.err()).isEqualTo(1);
        assertNoSecrets(run.all());
        return run;
    }

    @Test
    void shouldCountExactlyOverTls() throws Exception {
        String in = kafka.createUniqueTopic("tls-in", 2);
        String out = KafkaTestClient.uniqueTopicName("tls-out");
        kafka.produce(in, ExampleRun.thirteenKeys());
        TlsMaterial tls = broker.tlsMaterial();
        Properties ssl = new Properties();
        ssl.setProperty("security.protocol", "SSL");
        ssl.setProperty("ssl.truststore.location", tls.trustStore().toString());
        ssl.setProperty("ssl.truststore.password", tls.trustStorePassword());

        ExampleRun run;
        String logs;
        try (CapturedLogs captured = CapturedLogs.start()) {
            run =
                    ExampleRun.boundedCount(
                            broker.bootstrapServers(),
                            in,
                            out,
                            ExampleRun.writeProperties(dir, "ssl", ssl));
            logs = captured.text();
        }

        assertThat(run.exitCode()).as(run.all()).isZero();
        // KafkaTestClient reads with isolation.level=read_committed.
        assertThat(kafka.latestValuePerKey(out)).isEqualTo(ExampleRun.thirteenKeyCounts());
        assertNoSecrets(run.all());
        assertThat(logs)
                .as("client configs were logged, with the store password hidden")
                .contains("security.protocol = SSL")
                .contains("ssl.truststore.password = [hidden]");
        assertNoSecrets(logs);
    }

    @Test
    void shouldFailFastNamingSslForATrustStoreThatDoesNotTrustTheBroker() throws Exception {
        ExampleRun run = assertFailsNamingSsl("stranger", stranger.clientProperties());

        assertThat(run.err())
                .startsWith("Error: SSL handshake with " + broker.bootstrapServers() + " failed")
                .contains("unable to find valid certification path")
                .contains("ssl.truststore.location");
    }

    @Test
    void shouldFailFastNamingSslWithoutATrustStore() throws Exception {
        Properties ssl = new Properties();
        ssl.setProperty("security.protocol", "SSL");

        ExampleRun run = assertFailsNamingSsl("no-truststore", ssl);

        assertThat(run.err())
                .startsWith("Error: SSL handshake with " + broker.bootstrapServers() + " failed");
    }

    @Test
    void shouldFailFastNamingSslForAWrongTrustStorePassword() throws Exception {
        Properties ssl = broker.tlsMaterial().clientProperties();
        ssl.setProperty("ssl.truststore.password", "not-the-store-Pa55word");

        ExampleRun run = assertFailsNamingSsl("wrong-password", ssl);

        assertThat(run.err())
                .startsWith("Error: Cannot create a Kafka client for ")
                .contains("Failed to load SSL keystore " + broker.tlsMaterial().trustStore())
                .contains("keystore password was incorrect");
        assertThat(run.all()).doesNotContain("not-the-store-Pa55word");
    }
}
