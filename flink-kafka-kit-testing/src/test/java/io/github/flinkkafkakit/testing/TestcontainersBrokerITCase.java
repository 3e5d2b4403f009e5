package io.github.flinkkafkakit.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs only where Docker exists; elsewhere every test is skipped with the reason. */
class TestcontainersBrokerITCase {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA =
            new KafkaBrokerExtension(KafkaBrokerExtension.Mode.TESTCONTAINERS, Map.of());

    @Test
    void shouldProduceAndConsumeOnAContainerBroker(KafkaTestClient kafka) {
        String topic = kafka.createUniqueTopic("tc", 1);
        kafka.produce(topic, List.of(KeyValue.of("k", "v")));
        assertThat(kafka.latestValuePerKey(topic)).containsEntry("k", "v");
    }
}
