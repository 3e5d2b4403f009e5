package io.github.flinkkafkakit.testing.reliability;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One row of the reliability suite: a fault scenario, the figures its test asserted, and where it
 * ran (commit, run id, seed). Fault tests write it as one JSON line to {@code
 * target/reliability/results.jsonl} of their module, <b>after</b> their assertions ran: {@link
 * Builder#verify} runs them and writes a {@code PASS} row, or a {@code FAIL} row with the message
 * of the first failed assertion (then rethrows). {@link ReliabilityReport} turns all modules' lines
 * into {@code RELIABILITY.md}.
 *
 * <pre>{@code
 * ReliabilityResult.of(ReliabilityScenario.COUNT_FAULTS_EXACTLY_ONCE, "count, 5 task failures")
 *         .recordsIn(1_000_000).lost(verdict.lost()).duplicated(verdict.duplicated())
 *         .restarts(observedRestarts)
 *         .verify(() -> assertThat(verdict.isExact()).as(verdict.toString()).isTrue());
 * }</pre>
 *
 * @param id the {@link ReliabilityScenario#id()} ({@code ""} for rows written without one)
 * @param scenario what was done (fault, guarantee, scale)
 * @param recordsIn input records
 * @param lost input records whose effect is missing from the output
 * @param duplicated outputs (or dead letters) that repeat an effect already in the output
 * @param restarts job (or process) restarts the scenario observed, -1 when unknown
 * @param deadLetters dead letters written, -1 when the scenario has none to check
 * @param seed the random seed of the input or fault positions, {@code ""} when none
 * @param detail other asserted figures, e.g. the records a resumed run processed
 * @param commit the git commit the test ran on ({@code +dirty} with local changes)
 * @param runId the Maven run ({@value #RUN_ID_PROPERTY}), so a report can tell this run's rows
 * @param result {@code PASS}, or {@code FAIL: } and the failed assertion's message
 */
@Internal
public record ReliabilityResult(
        String id,
        String scenario,
        long recordsIn,
        long lost,
        long duplicated,
        long restarts,
        long deadLetters,
        String seed,
        String detail,
        String commit,
        String runId,
        String result) {

    /** Where fault tests write: {@code fkk.reliability.dir}, else {@code target/reliability}. */
    public static final String DIR_PROPERTY = "fkk.reliability.dir";

    /**
     * The id of this Maven run, set by the build (surefire's {@code systemPropertyVariables}: the
     * build's start time, the same in every module); without it a per-JVM id {@code local-...}.
     */
    public static final String RUN_ID_PROPERTY = "fkk.reliability.runId";

    /** Overrides the commit read with {@code git rev-parse --short HEAD}. */
    public static final String COMMIT_PROPERTY = "fkk.reliability.commit";

    /** The file name, the same in every module. */
    public static final String FILE = "results.jsonl";

    private static final String LOCAL_RUN_ID =
            "local-"
                    + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")
                            .format(LocalDateTime.now(ZoneOffset.UTC));

    private static volatile String commitCache;

    public ReliabilityResult {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(scenario, "scenario");
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(commit, "commit");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(result, "result");
    }

    /**
     * A row without an id, seed or dead letters, stamped with this run's commit and run id (for
     * tests not yet using {@link #of}; such a row is written whenever {@link #append()} is called,
     * whether or not the test's assertions ran).
     */
    public ReliabilityResult(
            String scenario,
            long recordsIn,
            long lost,
            long duplicated,
            long restarts,
            String result) {
        this(
                "",
                scenario,
                recordsIn,
                lost,
                duplicated,
                restarts,
                -1,
                "",
                "",
                currentCommit(),
                currentRunId(),
                result);
    }

    /** PASS when nothing was lost or duplicated, else FAIL. */
    public static String verdict(long lost, long duplicated) {
        return lost == 0 && duplicated == 0 ? "PASS" : "FAIL";
    }

    /** Starts the row of {@code scenario}; {@code description} says what this run did. */
    public static Builder of(ReliabilityScenario scenario, String description) {
        return new Builder(scenario, description);
    }

    /** Whether the row says PASS. */
    public boolean passed() {
        return result.startsWith("PASS");
    }

    /** This run's id: {@value #RUN_ID_PROPERTY}, else a per-JVM {@code local-<time>}. */
    public static String currentRunId() {
        String id = System.getProperty(RUN_ID_PROPERTY, "").trim();
        return id.isEmpty() || id.startsWith("${") ? LOCAL_RUN_ID : id;
    }

    /**
     * The commit under test: {@value #COMMIT_PROPERTY}, else {@code git rev-parse --short HEAD} in
     * the working directory ({@code +dirty} when tracked files differ from it), else {@code
     * unknown}.
     */
    public static String currentCommit() {
        String fixed = System.getProperty(COMMIT_PROPERTY, "").trim();
        if (!fixed.isEmpty()) {
            return fixed;
        }
        String cached = commitCache;
        if (cached == null) {
            String head = git("rev-parse", "--short", "HEAD");
            if (head == null || head.isBlank()) {
                cached = "unknown";
            } else {
                String changes = git("status", "--porcelain", "--untracked-files=no");
                cached = head.trim() + (changes == null || changes.isBlank() ? "" : "+dirty");
            }
            commitCache = cached;
        }
        return cached;
    }

    private static String git(String... args) {
        List<String> command = new ArrayList<>();
        command.add("git");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return null;
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Appends this row to the module's results file (creating it). */
    public void append() {
        Path dir = Path.of(System.getProperty(DIR_PROPERTY, "target/reliability"));
        try {
            Files.createDirectories(dir);
            Files.writeString(
                    dir.resolve(FILE),
                    toJson() + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot write reliability result to " + dir, e);
        }
    }

    /** One flat JSON object, the fields in declaration order. */
    public String toJson() {
        return "{\"id\":"
                + quote(id)
                + ",\"scenario\":"
                + quote(scenario)
                + ",\"records_in\":"
                + recordsIn
                + ",\"lost\":"
                + lost
                + ",\"duplicated\":"
                + duplicated
                + ",\"restarts\":"
                + restarts
                + ",\"dead_letters\":"
                + deadLetters
                + ",\"seed\":"
                + quote(seed)
                + ",\"detail\":"
                + quote(detail)
                + ",\"commit\":"
                + quote(commit)
                + ",\"run_id\":"
                + quote(runId)
                + ",\"result\":"
                + quote(result)
                + "}";
    }

    /**
     * Parses one line written by {@link #toJson()}; lines of older versions (no id, dead letters,
     * seed, detail, commit or run id) read with {@code ""}, -1 or {@code unknown}.
     */
    public static ReliabilityResult parse(String line) {
        Map<String, String> fields = FlatJson.parse(line);
        return new ReliabilityResult(
                fields.getOrDefault("id", ""),
                required(fields, "scenario", line),
                number(fields, "records_in", line),
                number(fields, "lost", line),
                number(fields, "duplicated", line),
                number(fields, "restarts", line),
                fields.containsKey("dead_letters") ? number(fields, "dead_letters", line) : -1,
                fields.getOrDefault("seed", ""),
                fields.getOrDefault("detail", ""),
                fields.getOrDefault("commit", "unknown"),
                fields.getOrDefault("run_id", "unknown"),
                required(fields, "result", line));
    }

    /**
     * The figures of one scenario run, written by {@link #verify} once its assertions ran. Figures
     * not set are -1 (unknown) for restarts and dead letters, 0 otherwise.
     */
    public static final class Builder {
        private final ReliabilityScenario scenario;
        private final String description;
        private long recordsIn;
        private long lost;
        private long duplicated;
        private long restarts = -1;
        private long deadLetters = -1;
        private String seed = "";
        private String detail = "";

        private Builder(ReliabilityScenario scenario, String description) {
            this.scenario = Objects.requireNonNull(scenario, "scenario");
            this.description = Objects.requireNonNull(description, "description");
        }

        public Builder recordsIn(long n) {
            recordsIn = n;
            return this;
        }

        public Builder lost(long n) {
            lost = n;
            return this;
        }

        public Builder duplicated(long n) {
            duplicated = n;
            return this;
        }

        /** Restarts the test observed (Flink's numRestarts, attempts seen, kills it made). */
        public Builder restarts(long n) {
            restarts = n;
            return this;
        }

        public Builder deadLetters(long n) {
            deadLetters = n;
            return this;
        }

        public Builder seed(Object seed) {
            this.seed = String.valueOf(seed);
            return this;
        }

        /** Other asserted figures, e.g. {@code "resumed: 412,331 records"}. */
        public Builder detail(String detail) {
            this.detail = Objects.requireNonNull(detail, "detail");
            return this;
        }

        /** The row with {@code result}, stamped with this run's commit and run id. */
        public ReliabilityResult build(String result) {
            return new ReliabilityResult(
                    scenario.id(),
                    description,
                    recordsIn,
                    lost,
                    duplicated,
                    restarts,
                    deadLetters,
                    seed,
                    detail,
                    currentCommit(),
                    currentRunId(),
                    result);
        }

        /**
         * Runs {@code assertions}; appends a {@code PASS} row when all passed, else a {@code FAIL}
         * row with the first failure's message, and rethrows that failure.
         */
        public void verify(Assertions assertions) throws Exception {
            try {
                assertions.run();
            } catch (Exception | Error e) {
                build("FAIL: " + firstLine(e)).append();
                throw e;
            }
            build("PASS").append();
        }

        private static String firstLine(Throwable e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            String line = message.strip().lines().findFirst().orElse(e.toString());
            return line.length() > 300 ? line.substring(0, 300) + "..." : line;
        }
    }

    /** A test's assertions. */
    @FunctionalInterface
    public interface Assertions {
        void run() throws Exception;
    }

    private static String required(Map<String, String> fields, String name, String line) {
        String value = fields.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no \"" + name + "\" in " + line);
        }
        return value;
    }

    private static long number(Map<String, String> fields, String name, String line) {
        String value = required(fields, name, line);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + name + "\" is not a number in " + line, e);
        }
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** A reader of one flat JSON object (string and number values only), no library needed. */
    static final class FlatJson {
        private final String s;
        private int i;

        private FlatJson(String s) {
            this.s = s;
        }

        static Map<String, String> parse(String line) {
            return new FlatJson(line.trim()).object();
        }

        private Map<String, String> object() {
            Map<String, String> fields = new LinkedHashMap<>();
            expect('{');
            skipSpace();
            if (peek() == '}') {
                return fields;
            }
            while (true) {
                skipSpace();
                String name = string();
                skipSpace();
                expect(':');
                skipSpace();
                fields.put(name, peek() == '"' ? string() : bare());
                skipSpace();
                if (peek() == ',') {
                    i++;
                    continue;
                }
                expect('}');
                return fields;
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        private String bare() {
            int start = i;
            while (i < s.length() && ",} \t".indexOf(s.charAt(i)) < 0) {
                i++;
            }
            return s.substring(start, i);
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            if (i >= s.length()) {
                throw new IllegalArgumentException("unexpected end of " + s);
            }
            return s.charAt(i);
        }

        private char next() {
            char c = peek();
            i++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) {
                throw new IllegalArgumentException(
                        "expected '" + c + "' at " + (i - 1) + " in " + s);
            }
        }
    }
}
