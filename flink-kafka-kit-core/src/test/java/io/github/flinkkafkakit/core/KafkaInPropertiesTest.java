package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;

import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The consumer properties of a source: kit defaults, then the connection's, then the builder's. */
class KafkaInPropertiesTest {

    private static KafkaIn.Builder<String> source(KafkaConnection connection) {
        return KafkaIn.<String>builder()
                .setConnection(connection)
                .setTopics("t")
                .setDeserializer(KafkaDeserializers.values(Serdes.string()));
    }

    private static KafkaConnection connection(String isolationLevel) {
        return KafkaConnection.builder()
                .setBootstrapServers("localhost:9092")
                .setProperty("isolation.level", isolationLevel)
                .build();
    }

    @Test
    void shouldReadCommittedByDefault() {
        KafkaIn<String> in = source(KafkaConnection.of("localhost:9092")).build();

        Properties props = in.sourceProperties();
        assertThat(props.getProperty("isolation.level")).isEqualTo("read_committed");
        assertThat(in.isolationLevel()).isEqualTo("read_committed");
        // The throughput defaults are still there.
        assertThat(props.getProperty("max.poll.records")).isEqualTo("5000");
    }

    @Test
    void shouldKeepTheIsolationLevelOfTheConnection() {
        KafkaIn<String> in = source(connection("read_uncommitted")).build();

        assertThat(in.sourceProperties().getProperty("isolation.level"))
                .isEqualTo("read_uncommitted");
        assertThat(in.isolationLevel()).isEqualTo("read_uncommitted");
    }

    @Test
    void shouldLetTheSourcesPropertyOverrideTheConnection() {
        KafkaIn<String> committed =
                source(connection("read_uncommitted"))
                        .setProperty("isolation.level", "read_committed")
                        .build();
        KafkaIn<String> uncommitted =
                source(KafkaConnection.of("localhost:9092"))
                        .setProperty("isolation.level", " READ_UNCOMMITTED ")
                        .build();

        assertThat(committed.isolationLevel()).isEqualTo("read_committed");
        assertThat(uncommitted.isolationLevel()).isEqualTo("read_uncommitted");
    }
}
