package io.github.flinkkafkakit.testing;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A broker process SIGKILLed and restarted keeps its port and its acknowledged records. */
class BrokerProcessITCase {

    @Test
    void shouldKeepPortAndDataAcrossSigkillAndRestart() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start()) {
            String topic;
            try (KafkaTestClient kafka = broker.client()) {
                topic = kafka.createUniqueTopic("survives", 2);
                kafka.produce(topic, records(0, 100));
            }
            long firstPid = broker.pid();
            String bootstrap = broker.bootstrapServers();

            broker.kill();
            assertThat(broker.isAlive()).isFalse();
            broker.restart();

            assertThat(broker.isAlive()).isTrue();
            assertThat(broker.pid()).isNotEqualTo(firstPid);
            assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(broker.starts()).isEqualTo(2);
            try (KafkaTestClient kafka = broker.client()) {
                kafka.waitForLeaders(topic, 2);
                kafka.produce(topic, records(100, 200));
                Map<String, String> latest = kafka.latestValuePerKey(topic, Duration.ofSeconds(1));
                assertThat(latest)
                        .hasSize(200)
                        .containsEntry("k0", "v0")
                        .containsEntry("k199", "v199");
            }
        }
    }

    private static List<KeyValue<String, String>> records(int from, int to) {
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = from; i < to; i++) {
            records.add(KeyValue.of("k" + i, "v" + i));
        }
        return records;
    }
}
