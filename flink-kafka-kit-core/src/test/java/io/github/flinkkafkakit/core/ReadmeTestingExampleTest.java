package io.github.flinkkafkakit.core;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's "Testing your job" code is {@link TestingYourJobITCase}, word for word. */
class ReadmeTestingExampleTest {

    @Test
    void shouldShowTheTestAsItIs() throws Exception {
        String source =
                Files.readString(
                        Path.of(
                                "src/test/java/io/github/flinkkafkakit/core",
                                "TestingYourJobITCase.java"));
        String readme = Files.readString(Path.of("..", "README.md"));

        String body = source.substring(source.indexOf("class TestingYourJobITCase {")).strip();

        assertThat(readme).contains("```java\n" + body + "\n```");
    }
}
