package io.github.flinkkafkakit.testing.reliability;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Generates {@code RELIABILITY.md} from what the reliability suite observed in one Maven run: every
 * {@code <module>/target/reliability/results.jsonl} under the repository root (one {@link
 * ReliabilityResult} per line), the rows of the newest run id (or {@code --run-id ID}), the last
 * row of each scenario in it, what each scenario proves and does not, and how to reproduce.
 *
 * <p>How to run, from the repository root, after the fault tests ran:
 *
 * <pre>{@code
 * java -cp flink-kafka-kit-testing/target/classes \
 *     io.github.flinkkafkakit.testing.reliability.ReliabilityReport . [RELIABILITY.md] [--run-id ID]
 * }</pre>
 *
 * <p>Exit code 0 when every expected scenario ({@link ReliabilityScenario}) has a passing row from
 * the run, 1 when a row failed, 2 when there were no results, 3 when an expected scenario has no
 * row from the run (the file is written in every case but 2, naming what failed or is missing).
 */
@Internal
public final class ReliabilityReport {

    private ReliabilityReport() {}

    /** A result and the module that wrote it. */
    record Row(String module, ReliabilityResult result) {

        Optional<ReliabilityScenario> scenario() {
            return ReliabilityScenario.of(module, result);
        }

        String key() {
            return module + "\u0000" + scenario().map(Enum::name).orElse(result.scenario());
        }
    }

    /** The rows of one run and the expected scenarios it lacks. */
    record Run(String id, List<Row> rows, List<ReliabilityScenario> missing) {

        long failed() {
            return rows.stream().filter(r -> !r.result().passed()).count();
        }
    }

    public static void main(String[] args) throws IOException {
        List<String> positional = new ArrayList<>();
        String runId = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--run-id") && i + 1 < args.length) {
                runId = args[++i];
            } else {
                positional.add(args[i]);
            }
        }
        Path root =
                Path.of(positional.isEmpty() ? "." : positional.get(0))
                        .toAbsolutePath()
                        .normalize();
        Path target = root.resolve(positional.size() > 1 ? positional.get(1) : "RELIABILITY.md");
        List<Row> rows = read(root);
        if (rows.isEmpty()) {
            System.err.println(
                    "No */target/reliability/"
                            + ReliabilityResult.FILE
                            + " under "
                            + root
                            + ": run the fault tests first (see README.md, Reliability suite)");
            System.exit(2);
        }
        Run run = select(rows, runId);
        Files.writeString(target, render(run, machine(), now()), StandardCharsets.UTF_8);
        long failed = run.failed();
        System.out.println(
                "Wrote "
                        + target
                        + " for run "
                        + run.id()
                        + ": "
                        + run.rows().size()
                        + " scenarios, "
                        + failed
                        + " failed, "
                        + run.missing().size()
                        + " missing");
        for (Row row : run.rows()) {
            if (!row.result().passed()) {
                System.err.println(
                        "FAILED: "
                                + row.module()
                                + " / "
                                + row.scenario().map(ReliabilityScenario::id).orElse("")
                                + " "
                                + row.result().scenario()
                                + ": "
                                + row.result().result());
            }
        }
        for (ReliabilityScenario s : run.missing()) {
            System.err.println(
                    "MISSING: "
                            + s.module()
                            + " / "
                            + s.id()
                            + " has no row from run "
                            + run.id()
                            + " (it did not run, or it failed before its figures were known)");
        }
        System.exit(!run.missing().isEmpty() ? 3 : failed == 0 ? 0 : 1);
    }

    /** Every row of every module, modules in name order, rows in the order written. */
    static List<Row> read(Path root) throws IOException {
        List<Path> modules = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
            dirs.forEach(modules::add);
        }
        modules.sort(null);
        List<Row> rows = new ArrayList<>();
        for (Path module : modules) {
            Path file = module.resolve("target/reliability").resolve(ReliabilityResult.FILE);
            if (!Files.isRegularFile(file)) {
                continue;
            }
            String name = module.getFileName().toString();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    rows.add(new Row(name, ReliabilityResult.parse(line)));
                }
            }
        }
        return rows;
    }

    /**
     * The rows of run {@code runId} (null: the newest run id, ids of builds preferred to {@code
     * local-} ids of runs outside Maven), the last row of each scenario, and the expected scenarios
     * without a row.
     */
    static Run select(List<Row> rows, String runId) {
        String id = runId;
        if (id == null) {
            id =
                    rows.stream()
                            .map(r -> r.result().runId())
                            .max(
                                    Comparator.comparing((String r) -> !r.startsWith("local-"))
                                            .thenComparing(Comparator.naturalOrder()))
                            .orElseThrow();
        }
        Map<String, Row> latest = new LinkedHashMap<>();
        for (Row row : rows) {
            if (row.result().runId().equals(id)) {
                latest.remove(row.key()); // keep the order of the last row of each scenario
                latest.put(row.key(), row);
            }
        }
        List<ReliabilityScenario> missing = new ArrayList<>();
        for (ReliabilityScenario s : ReliabilityScenario.values()) {
            if (latest.values().stream().noneMatch(r -> r.scenario().equals(Optional.of(s)))) {
                missing.add(s);
            }
        }
        return new Run(id, new ArrayList<>(latest.values()), missing);
    }

    static String render(Run run, String machine, String date) {
        Set<String> commits = new LinkedHashSet<>();
        run.rows().forEach(r -> commits.add(r.result().commit()));
        StringBuilder md = new StringBuilder();
        md.append("# Reliability\n\n")
                .append("<!-- Generated by ReliabilityReport from */target/reliability/")
                .append(ReliabilityResult.FILE)
                .append("; do not edit by hand. -->\n\n")
                .append("What the fault suite observed in one run: each row is one scenario run")
                .append(" against a real Kafka broker (embedded, or a broker process where it is")
                .append(" killed) and a real Flink MiniCluster or cluster (no mocks), written")
                .append(" only after all of its assertions ran. The output is read back whole")
                .append(" with `read_committed` and each key's history is checked, not only its")
                .append(" last value. *Lost* = input records whose effect is missing from the")
                .append(" committed output; *duplicated* = committed outputs (or dead letters)")
                .append(" that repeat or over-count an effect already there; *restarts* = job")
                .append(" restarts or process kills the test observed; *dead letters* = records")
                .append(" in the dead-letter topic (— when the scenario has none).\n\n")
                .append("Run `")
                .append(run.id())
                .append("` at commit ")
                .append(String.join(", ", commits.stream().map(c -> "`" + c + "`").toList()))
                .append(", generated ")
                .append(date)
                .append(" on ")
                .append(machine)
                .append(".\n\n");
        if (!run.missing().isEmpty()) {
            md.append("**Missing from this run:** ")
                    .append(
                            String.join(
                                    ", ",
                                    run.missing().stream().map(s -> "`" + s.id() + "`").toList()))
                    .append(".\n\n");
        }
        md.append(
                        "| Module | Scenario | Records in | Lost | Duplicated | Restarts |"
                                + " Dead letters | Seed | Result |\n")
                .append("|---|---|---:|---:|---:|---:|---:|---|---|\n");
        for (Row row : run.rows()) {
            ReliabilityResult r = row.result();
            md.append("| ")
                    .append(row.module().replace("flink-kafka-kit-", ""))
                    .append(" | ")
                    .append(cell(r.scenario()))
                    .append(" | ")
                    .append(String.format("%,d", r.recordsIn()))
                    .append(" | ")
                    .append(r.lost())
                    .append(" | ")
                    .append(r.duplicated())
                    .append(" | ")
                    .append(r.restarts() < 0 ? "?" : Long.toString(r.restarts()))
                    .append(" | ")
                    .append(r.deadLetters() < 0 ? "—" : Long.toString(r.deadLetters()))
                    .append(" | ")
                    .append(r.seed().isEmpty() ? "—" : cell(r.seed()))
                    .append(" | ")
                    .append(cell(r.result()))
                    .append(" |\n");
        }
        md.append("\nUnder at-least-once, duplicates are allowed and reported (outputs in the")
                .append(" committed history that repeat a count already emitted); loss never")
                .append(" is.\n\n## What each scenario proves, and what it does not\n\n");
        for (ReliabilityScenario s : ReliabilityScenario.values()) {
            Optional<Row> row =
                    run.rows().stream()
                            .filter(r -> r.scenario().equals(Optional.of(s)))
                            .findFirst();
            md.append("- **`")
                    .append(s.id())
                    .append("`**")
                    .append(row.isEmpty() ? " (no row in this run)" : "")
                    .append(": proves that ")
                    .append(s.proves())
                    .append(" Does not prove ")
                    .append(s.doesNotProve());
            row.map(r -> r.result().detail())
                    .filter(d -> !d.isEmpty())
                    .ifPresent(d -> md.append(" Observed: ").append(d).append('.'));
            md.append('\n');
        }
        md.append("\n## How to reproduce\n\n")
                .append("```bash\n")
                .append("# default suite (1,000,000 records, 5 injected task failures per run)\n")
                .append("mvn -B verify\n")
                .append("# heavier: 10,000,000 records, 20 failures\n")
                .append("mvn -B verify -Preliability-heavy\n")
                .append("# regenerate this file from the newest run above (exits non-zero when")
                .append(" a scenario failed or has no row from that run)\n")
                .append("java -cp flink-kafka-kit-testing/target/classes \\\n")
                .append("    io.github.flinkkafkakit.testing.reliability.ReliabilityReport .\n")
                .append("```\n\n")
                .append("Each fault test appends one line to `<module>/target/reliability/")
                .append(ReliabilityResult.FILE)
                .append("` with the commit and the run id (`")
                .append(ReliabilityResult.RUN_ID_PROPERTY)
                .append("`, the build's start time); `mvn clean` starts afresh. The expected")
                .append(" scenarios are listed in `ReliabilityScenario` (testing module).\n");
        return md.toString();
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    static String machine() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        return String.format(
                "%s (%s %s, %d cores, Java %s)",
                host,
                System.getProperty("os.name"),
                System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
    }

    private static String now() {
        return ZonedDateTime.now(ZoneOffset.UTC)
                .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
    }
}
