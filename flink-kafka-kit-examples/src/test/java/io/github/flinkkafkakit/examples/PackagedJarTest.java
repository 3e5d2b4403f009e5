package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The two jars of this module, checked after {@code package} (Surefire in the verify phase). */
class PackagedJarTest {

    private static final Path TARGET = Path.of("target");

    private static List<String> entries(JarFile jar) {
        return jar.stream().map(e -> e.getName()).collect(Collectors.toList());
    }

    @Test
    void shouldPackageTheJobJarForFlinkRunWithoutFlinkItself() throws Exception {
        try (JarFile jar =
                new JarFile(TARGET.resolve("flink-kafka-kit-examples-job.jar").toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(Examples.class.getName());
            List<String> entries = entries(jar);
            assertThat(entries)
                    .contains(
                            "io/github/flinkkafkakit/examples/CountExample.class",
                            "io/github/flinkkafkakit/core/KafkaIn.class",
                            "io/github/flinkkafkakit/state/KafkaChangelog.class",
                            "org/apache/flink/connector/kafka/source/KafkaSource.class",
                            "org/apache/kafka/clients/consumer/KafkaConsumer.class",
                            "picocli/CommandLine.class");
            assertThat(entries)
                    .as("Flink's runtime, the embedded broker and logging come from the cluster")
                    .noneMatch(e -> e.startsWith("org/apache/flink/runtime/"))
                    .noneMatch(e -> e.startsWith("org/apache/flink/streaming/api/environment/"))
                    .noneMatch(e -> e.startsWith("org/apache/flink/api/common/"))
                    .noneMatch(e -> e.startsWith("kafka/server/"))
                    .noneMatch(e -> e.startsWith("org/apache/kafka/common/test/"))
                    .noneMatch(e -> e.startsWith("io/github/flinkkafkakit/testing/"))
                    .noneMatch(e -> e.startsWith("org/apache/logging/log4j/core/"))
                    .noneMatch(e -> e.startsWith("scala/"));
        }
    }

    @Test
    void shouldPackageASelfContainedRunnableJar() throws Exception {
        try (JarFile jar = new JarFile(TARGET.resolve("flink-kafka-kit-examples.jar").toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(Examples.class.getName());
            assertThat(jar.getManifest().getMainAttributes().getValue("Add-Opens"))
                    .contains("java.base/java.util");
            assertThat(entries(jar))
                    .contains(
                            "org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class",
                            "io/github/flinkkafkakit/testing/EmbeddedKafkaBroker.class");
        }
    }
}
