package io.github.flinkkafkakit.testing.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReliabilityReportTest {

    @Test
    void shouldRoundTripAResultThroughItsJsonLine() {
        ReliabilityResult r =
                new ReliabilityResult("count \"eos\"\t| 5 failures", 1_000_000, 0, 3, 5, "PASS");

        assertThat(ReliabilityResult.parse(r.toJson())).isEqualTo(r);
    }

    @Test
    void shouldReadEveryModuleAndKeepTheLatestRowOfEachScenario(@TempDir Path root)
            throws Exception {
        Path a = Files.createDirectories(root.resolve("mod-a/target/reliability"));
        Path b = Files.createDirectories(root.resolve("mod-b/target/reliability"));
        Files.writeString(
                a.resolve("results.jsonl"),
                new ReliabilityResult("s1", 10, 1, 0, 2, "FAIL").toJson()
                        + "\n"
                        + new ReliabilityResult("s1", 10, 0, 0, 2, "PASS").toJson()
                        + "\n");
        Files.writeString(
                b.resolve("results.jsonl"),
                "{\"scenario\":\"broker restart\",\"records_in\":5,\"lost\":0,"
                        + "\"duplicated\":0,\"restarts\":1,\"result\":\"PASS\"}\n");

        List<ReliabilityReport.Row> rows = ReliabilityReport.read(root);

        assertThat(rows)
                .extracting(
                        r -> r.module() + ":" + r.result().scenario() + ":" + r.result().result())
                .containsExactly("mod-a:s1:PASS", "mod-b:broker restart:PASS");
        assertThat(ReliabilityReport.render(rows, "box", "today"))
                .contains("| mod-a | s1 | 10 | 0 | 0 | 2 | PASS |")
                .contains("| mod-b | broker restart | 5 | 0 | 0 | 1 | PASS |")
                .contains("on box");
    }
}
