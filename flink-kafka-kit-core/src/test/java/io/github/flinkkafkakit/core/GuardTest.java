package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Builder checks of {@link Guard} and of the new {@link KafkaIn} source options. */
class GuardTest {

    @Test
    void shouldNeedAConnectionForADeadLetterPolicy() {
        assertThatThrownBy(
                        () -> Guard.builder().setErrorPolicy(ErrorPolicy.deadLetter("d")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("setConnection");
        assertThat(Guard.of(ErrorPolicy.skip()).errorPolicy().action())
                .isEqualTo(ErrorPolicy.Action.SKIP);
    }

    private static KafkaIn.Builder<String> source() {
        return KafkaIn.<String>builder()
                .setConnection(KafkaConnection.of("127.0.0.1:1"))
                .setTopics("t")
                .setDeserializer(KafkaDeserializers.values(Serdes.string()));
    }

    @Test
    void shouldNeedAGroupToStartFromCommittedOffsets() {
        assertThatThrownBy(() -> source().setStartingOffsetsCommittedOrLatest().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("setGroupId");
        assertThat(source().setStartingOffsetsCommittedOrEarliest().setGroupId("g").build())
                .isNotNull();
        assertThat(
                        source().setStartingOffsetsCommittedOrEarliest()
                                .setStartingOffsetsLatest()
                                .build())
                .as("a later choice replaces the committed-offsets one")
                .isNotNull();
    }

    @Test
    void shouldRejectInvalidSourceOptions() {
        assertThatThrownBy(() -> source().setPartitionDiscovery(java.time.Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> source().setWatermarks(null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> source().setStartingOffsetsTimestamp(null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
