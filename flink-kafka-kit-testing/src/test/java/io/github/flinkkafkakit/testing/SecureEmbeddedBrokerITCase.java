package io.github.flinkkafkakit.testing;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The SCRAM and TLS variants of {@link EmbeddedKafkaBroker}, with plain Kafka clients. */
class SecureEmbeddedBrokerITCase {

    private static void roundTrip(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("secure", 2);
        kafka.produce(topic, List.of(KeyValue.of("a", "1"), KeyValue.of("b", "2")));
        assertThat(kafka.latestValuePerKey(topic)).isEqualTo(Map.of("a", "1", "b", "2"));
    }

    private static void describeCluster(String bootstrap, Properties security) throws Exception {
        Properties props = new Properties();
        props.putAll(security);
        props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS);
        }
    }

    @Test
    void scramBrokerShouldAcceptBothScramMechanismsAndPlain() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startWithSaslScram(Map.of())) {
            for (String mechanism : List.of("SCRAM-SHA-256", "SCRAM-SHA-512")) {
                try (KafkaTestClient kafka =
                        new KafkaTestClient(
                                broker.bootstrapServers(),
                                EmbeddedKafkaBroker.saslScramClientProperties(
                                        mechanism,
                                        EmbeddedKafkaBroker.SCRAM_USER,
                                        EmbeddedKafkaBroker.SCRAM_USER_PASSWORD))) {
                    roundTrip(kafka);
                }
            }
            try (KafkaTestClient kafka = broker.client()) {
                roundTrip(kafka);
            }
            assertThatThrownBy(
                            () ->
                                    describeCluster(
                                            broker.bootstrapServers(),
                                            EmbeddedKafkaBroker.saslScramClientProperties(
                                                    "SCRAM-SHA-512",
                                                    EmbeddedKafkaBroker.SCRAM_USER,
                                                    "wrong")))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    @Test
    void sslBrokerShouldServeClientsThatTrustItsCertificateOnly() throws Exception {
        TlsMaterial material;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startWithSsl(Map.of());
                TlsMaterial other = TlsMaterial.generate("other")) {
            material = broker.tlsMaterial();
            assertThat(broker.clientProperties()).containsEntry("security.protocol", "SSL");
            try (KafkaTestClient kafka = broker.client()) {
                roundTrip(kafka);
            }
            assertThatThrownBy(
                            () ->
                                    describeCluster(
                                            broker.bootstrapServers(), other.clientProperties()))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(SslAuthenticationException.class);
        }
        assertThat(Files.exists(material.trustStore())).as("deleted on close").isFalse();
    }
}
