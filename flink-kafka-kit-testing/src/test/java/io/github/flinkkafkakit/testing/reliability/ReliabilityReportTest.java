package io.github.flinkkafkakit.testing.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReliabilityReportTest {

    private static final String CORE = "flink-kafka-kit-core";
    private static final String EXAMPLES = "flink-kafka-kit-examples";

    private static ReliabilityResult row(ReliabilityScenario s, String run, String result) {
        return new ReliabilityResult(
                s.id(), s.id() + " run", 10, 0, 0, 2, -1, "", "", "abc1234", run, result);
    }

    @Test
    void shouldRoundTripAResultThroughItsJsonLine() {
        ReliabilityResult r =
                new ReliabilityResult(
                        "count-faults-exactly-once",
                        "count \"eos\"\t| 5 failures",
                        1_000_000,
                        0,
                        3,
                        5,
                        7,
                        "42",
                        "resumed: 10 records",
                        "abc1234+dirty",
                        "20260101T000000Z",
                        "FAIL: lost 1");

        assertThat(ReliabilityResult.parse(r.toJson())).isEqualTo(r);
    }

    @Test
    void shouldReadARowOfAnOlderVersionWithUnknownRunAndCommit() {
        ReliabilityResult r =
                ReliabilityResult.parse(
                        "{\"scenario\":\"broker restart\",\"records_in\":5,\"lost\":0,"
                                + "\"duplicated\":0,\"restarts\":1,\"result\":\"PASS\"}");

        assertThat(r.runId()).isEqualTo("unknown");
        assertThat(r.commit()).isEqualTo("unknown");
        assertThat(r.deadLetters()).isEqualTo(-1);
        assertThat(r.id()).isEmpty();
    }

    @Test
    void shouldWriteARowOnlyAfterTheAssertionsAndAFailRowWithTheMessage(@TempDir Path dir)
            throws Exception {
        String before = System.getProperty(ReliabilityResult.DIR_PROPERTY);
        System.setProperty(ReliabilityResult.DIR_PROPERTY, dir.toString());
        try {
            ReliabilityResult.Builder figures =
                    ReliabilityResult.of(ReliabilityScenario.COUNT_KILL_RESTORE, "kill")
                            .recordsIn(100)
                            .lost(1)
                            .restarts(1);
            assertThatThrownBy(
                            () ->
                                    figures.verify(
                                            () -> {
                                                throw new AssertionError(
                                                        "[records lost] expected 0 but was 1\n"
                                                                + "more");
                                            }))
                    .isInstanceOf(AssertionError.class);
            figures.lost(0).verify(() -> {});

            List<String> lines = Files.readAllLines(dir.resolve(ReliabilityResult.FILE));
            assertThat(lines).hasSize(2);
            ReliabilityResult failed = ReliabilityResult.parse(lines.get(0));
            assertThat(failed.result()).isEqualTo("FAIL: [records lost] expected 0 but was 1");
            assertThat(failed.id()).isEqualTo("count-kill-restore");
            assertThat(failed.runId()).isEqualTo(ReliabilityResult.currentRunId());
            assertThat(failed.commit()).isNotBlank();
            assertThat(ReliabilityResult.parse(lines.get(1)).result()).isEqualTo("PASS");
        } finally {
            if (before == null) {
                System.clearProperty(ReliabilityResult.DIR_PROPERTY);
            } else {
                System.setProperty(ReliabilityResult.DIR_PROPERTY, before);
            }
        }
    }

    @Test
    void shouldReportTheNewestRunAndNameEveryExpectedScenarioWithoutARow(@TempDir Path root)
            throws Exception {
        Path core = Files.createDirectories(root.resolve(CORE + "/target/reliability"));
        Path examples = Files.createDirectories(root.resolve(EXAMPLES + "/target/reliability"));
        Files.writeString(
                core.resolve("results.jsonl"),
                row(ReliabilityScenario.POISON_PILLS, "20260101T000000Z", "PASS").toJson()
                        + "\n"
                        + row(ReliabilityScenario.POISON_PILLS, "20260102T000000Z", "PASS").toJson()
                        + "\n");
        Files.writeString(
                examples.resolve("results.jsonl"),
                // an old PASS, then this run's FAIL: the FAIL is what counts
                row(ReliabilityScenario.COUNT_KILL_RESTORE, "20260101T000000Z", "PASS").toJson()
                        + "\n"
                        + row(ReliabilityScenario.COUNT_KILL_RESTORE, "20260102T000000Z", "FAIL: x")
                                .toJson()
                        + "\n"
                        + row(ReliabilityScenario.STATEFUL_TOTAL_KILLS, "20260101T000000Z", "PASS")
                                .toJson()
                        + "\n");

        ReliabilityReport.Run run = ReliabilityReport.select(ReliabilityReport.read(root), null);

        assertThat(run.id()).isEqualTo("20260102T000000Z");
        assertThat(run.rows())
                .extracting(r -> r.module() + ":" + r.result().id() + ":" + r.result().result())
                .containsExactly(
                        CORE + ":poison-pills:PASS", EXAMPLES + ":count-kill-restore:FAIL: x");
        assertThat(run.failed()).isEqualTo(1);
        // stateful-total ran only in the older run: missing from this one
        assertThat(run.missing())
                .contains(ReliabilityScenario.STATEFUL_TOTAL_KILLS)
                .doesNotContain(
                        ReliabilityScenario.POISON_PILLS, ReliabilityScenario.COUNT_KILL_RESTORE);
        String md = ReliabilityReport.render(run, "box", "today");
        assertThat(md)
                .contains("| core | poison-pills run | 10 | 0 | 0 | 2 | — | — | PASS |")
                .contains(
                        "| examples | count-kill-restore run | 10 | 0 | 0 | 2 | — | — | FAIL: x |")
                .contains("Run `20260102T000000Z` at commit `abc1234`")
                .contains("**Missing from this run:**")
                .contains("`stateful-total-kills`")
                .contains(ReliabilityScenario.COUNT_KILL_RESTORE.proves())
                .contains(ReliabilityScenario.COUNT_KILL_RESTORE.doesNotProve());
    }

    @Test
    void shouldMatchARowWrittenWithoutAnIdByItsScenarioText() {
        ReliabilityResult legacy =
                new ReliabilityResult(
                        "TaskManager SIGKILL + replacement during exactly-once count on a session"
                                + " cluster (p=4, 2 TMs x 2 slots)",
                        200_000,
                        0,
                        0,
                        1,
                        "PASS");
        List<ReliabilityReport.Row> rows = new ArrayList<>();
        rows.add(new ReliabilityReport.Row(EXAMPLES, legacy));

        ReliabilityReport.Run run = ReliabilityReport.select(rows, legacy.runId());

        assertThat(run.missing()).doesNotContain(ReliabilityScenario.CLUSTER_TASK_MANAGER_KILL);
    }
}
