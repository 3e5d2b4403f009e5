package io.github.flinkkafkakit.state;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pins what the state module takes from core: public API, plus the internal classes listed here,
 * each marked {@code @Internal} in core. A change to one of these is a change to both modules; a
 * new use of a core internal must be added here on purpose.
 */
class CoreDependencyTest {

    /** Core internals the state module builds on (and why). */
    private static final Set<String> PINNED_INTERNALS =
            Set.of(
                    // sources stop at their end offsets even when restored (FLINK-31006)
                    "io.github.flinkkafkakit.core.internal.BoundedKafkaSource",
                    // a Kafka-backed source's records carry their positions through the kit's
                    // deserializer and dead-letter routing
                    "io.github.flinkkafkakit.core.internal.GuardedDeserializer",
                    // which key serializers write equal keys as equal bytes (shared with Counts)
                    "io.github.flinkkafkakit.core.internal.DeterministicSerializers",
                    // watermarks of a source's valid records, not of its dead letters
                    "io.github.flinkkafkakit.core.internal.LeftWatermarks",
                    // type information without Kryo for internal records
                    "io.github.flinkkafkakit.core.internal.OpaqueTypeInfo",
                    // the broker's producer limits (transaction timeout, record size)
                    "io.github.flinkkafkakit.core.internal.ProducerLimits",
                    // the RocksDB heap-timer refusal shared with counting
                    "io.github.flinkkafkakit.core.internal.RawKeyedStateTimers",
                    // the String → long table behind table states and changed-key sets
                    "io.github.flinkkafkakit.core.internal.table.StringLongTable");

    private static final Pattern CORE_CLASS =
            Pattern.compile("io\\.github\\.flinkkafkakit\\.core(\\.[a-z]+)*\\.[A-Z]\\w*");

    @Test
    void stateUsesCoreOnlyThroughPublicApiAndPinnedInternals() throws IOException {
        Set<String> used = new TreeSet<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file :
                    (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                Matcher m = CORE_CLASS.matcher(Files.readString(file));
                while (m.find()) {
                    used.add(m.group());
                }
            }
        }
        assertThat(used).as("core classes the state module uses").isNotEmpty();
        Set<String> internals = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String name : used) {
            String source = coreSource(name);
            boolean internalPackage = name.contains(".internal.");
            if (internalPackage) {
                internals.add(name);
                if (!source.contains("@Internal")) {
                    problems.add(name + " is used by the state module but not marked @Internal");
                }
            } else if (!source.contains("@PublicEvolving") && !source.contains("@Public\n")) {
                problems.add(name + " is used by the state module but is not public API");
            }
        }
        assertThat(problems).isEmpty();
        assertThat(internals).containsExactlyInAnyOrderElementsOf(PINNED_INTERNALS);
    }

    private static String coreSource(String className) throws IOException {
        Path file =
                Path.of(
                        "../flink-kafka-kit-core/src/main/java",
                        className.replace('.', '/') + ".java");
        assertThat(file).as("source of " + className).exists();
        return Files.readString(file);
    }
}
