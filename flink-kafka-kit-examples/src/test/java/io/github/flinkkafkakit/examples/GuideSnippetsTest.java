package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every {@code <!-- snippet: name -->} block of the user guide is exactly the {@code tag::name[]}
 * region of {@link GuideSnippetsITCase} (which runs it against a broker).
 */
class GuideSnippetsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SNIPPETS =
            ROOT.resolve(
                    "flink-kafka-kit-examples/src/test/java/io/github/flinkkafkakit/examples/"
                            + "GuideSnippetsITCase.java");
    private static final Pattern DOC_SNIPPET =
            Pattern.compile("<!-- snippet: ([\\w-]+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL);

    static Map<String, String> tagged() throws IOException {
        Map<String, String> regions = new LinkedHashMap<>();
        String source = Files.readString(SNIPPETS);
        Matcher m =
                Pattern.compile(
                                "// tag::([\\w-]+)\\[\\]\\n(.*?)\\n\\s*// end::\\1\\[\\]",
                                Pattern.DOTALL)
                        .matcher(source);
        while (m.find()) {
            regions.put(m.group(1), dedent(m.group(2)));
        }
        return regions;
    }

    static String dedent(String block) {
        List<String> lines = new ArrayList<>(List.of(block.stripTrailing().split("\n")));
        int indent =
                lines.stream()
                        .filter(l -> !l.isBlank())
                        .mapToInt(l -> l.length() - l.stripLeading().length())
                        .min()
                        .orElse(0);
        StringBuilder out = new StringBuilder();
        for (String l : lines) {
            out.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
        }
        return out.toString();
    }

    @Test
    void shouldShowExactlyTheTestedCodeInTheGuide() throws IOException {
        Map<String, String> tagged = tagged();
        assertThat(tagged).isNotEmpty();
        Path guide = ROOT.resolve("docs/guide.md");
        Matcher m = DOC_SNIPPET.matcher(Files.readString(guide));
        List<String> shown = new ArrayList<>();
        while (m.find()) {
            String name = m.group(1);
            shown.add(name);
            assertThat(tagged).as("snippet '" + name + "' in " + guide).containsKey(name);
            assertThat(m.group(2))
                    .as("snippet '" + name + "' must match GuideSnippetsITCase")
                    .isEqualTo(tagged.get(name));
        }
        assertThat(shown)
                .as("every tested snippet appears in the guide")
                .containsAll(tagged.keySet());
    }
}
