package io.github.flinkkafkakit.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link FlinkSessionCluster} can check without Flink (this module's tests have none; the
 * examples module runs a real cluster in {@code ClusterTaskManagerKillJarTest}).
 */
class FlinkSessionClusterTest {

    @Test
    void theClusterClasspathHasFlinksJarsButNotWhatAJobJarBrings() {
        assertThat(FlinkSessionCluster.excludedByDefault("/m2/flink-runtime-2.2.1.jar")).isFalse();
        assertThat(FlinkSessionCluster.excludedByDefault("/m2/log4j-core-2.24.3.jar")).isFalse();
        assertThat(FlinkSessionCluster.excludedByDefault("/m2/kafka-clients-4.2.0.jar")).isTrue();
        assertThat(FlinkSessionCluster.excludedByDefault("/m2/flink-connector-kafka-5.0.0-2.2.jar"))
                .isTrue();
        assertThat(
                        FlinkSessionCluster.excludedByDefault(
                                "/w/flink-kafka-kit-core/target/flink-kafka-kit-core-0.1.jar"))
                .isTrue();
        assertThat(FlinkSessionCluster.excludedByDefault("/w/module/target/classes")).isTrue();
        assertThat(FlinkSessionCluster.excludedByDefault("")).isTrue();
    }

    @Test
    void withoutFlinkOnTheClasspathStartFailsNamingTheMissingClassAndLeavesNothingBehind(
            @TempDir Path tmp) {
        Path dir = tmp.resolve("cluster");
        assertThatThrownBy(() -> FlinkSessionCluster.builder().directory(dir).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("BashJavaUtils")
                .hasMessageContaining("ClassNotFoundException");
        assertThat(Files.exists(dir)).isFalse();
    }
}
