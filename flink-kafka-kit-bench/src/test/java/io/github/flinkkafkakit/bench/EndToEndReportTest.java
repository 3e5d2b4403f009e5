package io.github.flinkkafkakit.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndToEndReportTest {

    private static EndToEndReport.Row row(String scenario, long records, double seconds) {
        return new EndToEndReport.Row(
                scenario, new EndToEndScenario.Measurement(records, seconds, 1.5, "exact"), null);
    }

    private static final List<EndToEndReport.Row> ROWS =
            List.of(
                    row("kafka-pipe", 1000, 1.0),
                    row("kit-count-eos", 1000, 0.5),
                    new EndToEndReport.Row("kit-count-alo", null, "IllegalStateException: wrong"),
                    row("changelog-restore", 1_000_000, 0.25));

    @Test
    void shouldWriteTheContractJsonWithRatesGoalsAndFailures() {
        String json = new EndToEndReport(1000, 10, "test", ROWS).json();

        assertThat(json)
                .startsWith("{\"records\":1000,\"keys\":10,")
                .contains(
                        "{\"scenario\":\"kafka-pipe\",\"records_per_second\":1000.0,\"seconds\":1.000,")
                .contains("{\"scenario\":\"kit-count-eos\",\"records_per_second\":2000.0,")
                .contains(
                        "{\"scenario\":\"kit-count-alo\",\"records_per_second\":null,\"seconds\":null,\"verified\":false")
                .contains(
                        "{\"goal\":\"kit-count-eos ≥ 1.00 × kafka-pipe\",\"value\":2.000,\"met\":true}")
                .contains(
                        "{\"goal\":\"changelog-restore ≥ 2,000,000 keys/s\",\"value\":4000000.000,\"met\":true}")
                .contains(
                        "{\"goal\":\"kit-count-alo ≥ 2.00 × flink-keyby-count-alo\",\"value\":null,\"met\":false}");
    }

    @Test
    void shouldWriteMarkdownAndChartNextToTheJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("r.json");

        new EndToEndReport(1000, 10, "test", ROWS).write(json);

        assertThat(Files.readString(json)).contains("\"results\":[");
        assertThat(Files.readString(dir.resolve("r.md")))
                .contains("| kit-count-eos | 2,000 | 0.50 | 1.5 | 2.00 | exact |")
                .contains(
                        "| kit-count-alo | – | – | – | – | **FAILED**: IllegalStateException: wrong |")
                .contains("| kit-count-eos ≥ 1.00 × kafka-pipe | 2.00 × | met |");
        byte[] png = Files.readAllBytes(dir.resolve("r.png"));
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void shouldRejectBadOptionsWithTheOptionNamed() {
        assertThatThrownBy(() -> EndToEndBench.Options.parse(new String[] {"--records", "-5"}))
                .hasMessage("--records must be a positive integer, got '-5'");
        assertThatThrownBy(() -> EndToEndBench.Options.parse(new String[] {"--skew", "pareto"}))
                .hasMessage("--skew must be zipf or uniform, got 'pareto'");
        assertThatThrownBy(() -> EndToEndBench.Options.parse(new String[] {"--out", "r.csv"}))
                .hasMessageContaining("--out must name a .json file");
        // the warm-up round is as long as the measured one unless asked otherwise
        assertThat(EndToEndBench.Options.parse(new String[] {"--records", "1000000"}).warmupRecords)
                .isEqualTo(1_000_000);
        assertThat(
                        EndToEndBench.Options.parse(
                                        new String[] {
                                            "--records", "1000000", "--warmup-records", "5000"
                                        })
                                .warmupRecords)
                .isEqualTo(5_000);
    }
}
