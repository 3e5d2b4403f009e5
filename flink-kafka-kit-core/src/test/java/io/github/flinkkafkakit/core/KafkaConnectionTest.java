package io.github.flinkkafkakit.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaConnectionTest {

    private static final String PASSWORD = "s3cr3t-Pa55";

    @Test
    void shouldMaskEverySecretInToString() {
        KafkaConnection connection =
                KafkaConnection.builder()
                        .setBootstrapServers("broker:9092")
                        .setProperty("security.protocol", "SASL_SSL")
                        .setProperty(
                                "sasl.jaas.config",
                                "org.apache.kafka.common.security.plain.PlainLoginModule required"
                                        + " username=\"alice\" password=\""
                                        + PASSWORD
                                        + "\";")
                        .setProperty("ssl.truststore.password", PASSWORD)
                        .setProperty("ssl.key.password", PASSWORD)
                        .setProperty("ssl.keystore.key", PASSWORD)
                        .build();

        assertThat(connection.toString())
                .doesNotContain(PASSWORD)
                .doesNotContain("alice")
                .contains("broker:9092")
                .contains("security.protocol=SASL_SSL")
                .contains("sasl.jaas.config=[hidden]");
        assertThat(connection.clientProperties().getProperty("ssl.key.password"))
                .isEqualTo(PASSWORD);
    }

    @Test
    void shouldLoadAPropertiesFileAndLetExplicitBootstrapServersWin(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(
                file, "bootstrap.servers=from-file:9092\nsecurity.protocol=SASL_PLAINTEXT\n");

        KafkaConnection connection =
                KafkaConnection.builder()
                        .loadPropertiesFile(file)
                        .setBootstrapServers("explicit:9092")
                        .build();

        assertThat(connection.bootstrapServers()).isEqualTo("explicit:9092");
        assertThat(connection.clientProperties())
                .containsEntry("security.protocol", "SASL_PLAINTEXT")
                .containsEntry("bootstrap.servers", "explicit:9092");
    }

    @Test
    void shouldNameTheMissingPropertiesFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope.properties");
        assertThatThrownBy(() -> KafkaConnection.builder().loadPropertiesFile(missing))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Kafka client properties file " + missing + " does not exist");
    }

    @Test
    void shouldSayThatThePropertiesFileIsADirectory(@TempDir Path dir) {
        assertThatThrownBy(() -> KafkaConnection.builder().loadPropertiesFile(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "Cannot read Kafka client properties file " + dir + ": it is a directory");
    }

    @Test
    void shouldNameAMalformedPropertiesFileWithoutItsValues(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "sasl.jaas.config=secret-\\u12\n");
        assertThatThrownBy(() -> KafkaConnection.builder().loadPropertiesFile(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "Kafka client properties file "
                                + file
                                + " is not a valid properties file: ")
                .hasMessageNotContaining("secret");
    }

    @Test
    void shouldRefuseToBuildWithoutBootstrapServers() {
        assertThatThrownBy(() -> KafkaConnection.builder().build())
                .hasMessageContaining("setBootstrapServers");
    }

    @Test
    void shouldClassifySecretPropertyNames() {
        assertThat(KafkaConnection.isSecret("sasl.jaas.config")).isTrue();
        assertThat(KafkaConnection.isSecret("ssl.truststore.password")).isTrue();
        assertThat(KafkaConnection.isSecret("sasl.oauthbearer.client.secret")).isTrue();
        assertThat(KafkaConnection.isSecret("security.protocol")).isFalse();
        assertThat(KafkaConnection.isSecret("sasl.mechanism")).isFalse();
    }

    @Test
    void shouldBuildSaslSettingsWithAnEscapedJaasLineAndMaskThem() {
        KafkaConnection connection =
                KafkaConnection.builder()
                        .setBootstrapServers("broker:9093")
                        .setSaslScram("SCRAM-SHA-512", "app", "pa\"ss\\word")
                        .build();

        assertThat(connection.clientProperties())
                .containsEntry("security.protocol", "SASL_PLAINTEXT")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry(
                        "sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required"
                                + " username=\"app\" password=\"pa\\\"ss\\\\word\";");
        assertThat(connection.toString()).doesNotContain("pa\"ss").doesNotContain("app\"");
    }

    @Test
    void shouldKeepSaslSslWhenAddingSaslCredentials() {
        KafkaConnection connection =
                KafkaConnection.builder()
                        .setBootstrapServers("broker:9093")
                        .setSecurityProtocol("sasl_ssl")
                        .setSaslPlain("u", "p")
                        .setSslTrustStore(
                                Path.of("/etc/kafka/truststore.p12"), "trust-secret", null)
                        .build();

        assertThat(connection.clientProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "PLAIN")
                .containsEntry("ssl.truststore.type", "PKCS12");
        assertThat(connection.toString()).doesNotContain("trust-secret");
    }
}
