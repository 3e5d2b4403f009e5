package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.BrokerProcess;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded run whose job already finished must not fail because the broker is restarting when the
 * final offsets are committed (found by the examples' BrokerRestartITCase: broker SIGKILLed right
 * after the job's last checkpoint, the CLI then exited 1).
 */
class FinalCommitBrokerRestartITCase {

    @Test
    void shouldCommitTheFinalOffsetsOnceTheBrokerIsBack() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start();
                KafkaTestClient kafka = broker.client()) {
            String in = kafka.createUniqueTopic("final-commit", 2);
            List<KeyValue<String, String>> records = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                records.add(KeyValue.of("k" + (i % 10), "v" + i));
            }
            kafka.produce(in, records);
            KafkaIn<String> source =
                    KafkaIn.<String>builder()
                            .setConnection(KafkaConnection.of(broker.bootstrapServers()))
                            .setTopics(in)
                            .setGroupId("g-" + in)
                            .setDeserializer(KafkaDeserializers.keys(Serdes.string()))
                            .setBounded(true)
                            .build();
            // Resolves the stopping offsets; the job itself is irrelevant here.
            source.createStream(
                    StreamExecutionEnvironment.getExecutionEnvironment(new Configuration()));

            broker.kill(); // SIGKILL
            CompletableFuture<Void> comesBack =
                    CompletableFuture.runAsync(
                            broker::restart,
                            CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS));
            source.commitStoppingOffsets();
            comesBack.get(3, TimeUnit.MINUTES);

            long committed =
                    kafka
                            .admin()
                            .listConsumerGroupOffsets("g-" + in)
                            .partitionsToOffsetAndMetadata()
                            .get(30, TimeUnit.SECONDS)
                            .values()
                            .stream()
                            .mapToLong(OffsetAndMetadata::offset)
                            .sum();
            assertThat(committed).isEqualTo(records.size());
        }
    }
}
