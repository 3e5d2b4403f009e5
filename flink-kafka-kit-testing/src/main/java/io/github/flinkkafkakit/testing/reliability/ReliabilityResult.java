package io.github.flinkkafkakit.testing.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One row of the reliability suite: a fault scenario and what a user would observe after it. Fault
 * tests {@link #append()} it as one JSON line to {@code target/reliability/results.jsonl} of their
 * module; {@link ReliabilityReport} turns all modules' lines into {@code RELIABILITY.md}.
 *
 * <pre>{@code
 * new ReliabilityResult("count, exactly-once, 5 task failures", 1_000_000, 0, 0, 5, "PASS")
 *         .append();
 * }</pre>
 *
 * @param scenario what was done (fault, guarantee, scale)
 * @param recordsIn input records
 * @param lost input records whose effect is missing from the output
 * @param duplicated input records counted more than once in the output
 * @param restarts job restarts (or process restarts) the scenario caused
 * @param result {@code PASS} or {@code FAIL}, optionally followed by a short note
 */
public record ReliabilityResult(
        String scenario, long recordsIn, long lost, long duplicated, long restarts, String result) {

    /** Where fault tests write: {@code fkk.reliability.dir}, else {@code target/reliability}. */
    public static final String DIR_PROPERTY = "fkk.reliability.dir";

    /** The file name, the same in every module. */
    public static final String FILE = "results.jsonl";

    public ReliabilityResult {
        Objects.requireNonNull(scenario, "scenario");
        Objects.requireNonNull(result, "result");
    }

    /** PASS when nothing was lost or duplicated, else FAIL. */
    public static String verdict(long lost, long duplicated) {
        return lost == 0 && duplicated == 0 ? "PASS" : "FAIL";
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

    /**
     * {@code
     * {"scenario":...,"records_in":...,"lost":...,"duplicated":...,"restarts":...,"result":...}}
     */
    public String toJson() {
        return "{\"scenario\":"
                + quote(scenario)
                + ",\"records_in\":"
                + recordsIn
                + ",\"lost\":"
                + lost
                + ",\"duplicated\":"
                + duplicated
                + ",\"restarts\":"
                + restarts
                + ",\"result\":"
                + quote(result)
                + "}";
    }

    /** Parses one line written by {@link #toJson()} (or by hand in the same flat format). */
    public static ReliabilityResult parse(String line) {
        Map<String, String> fields = FlatJson.parse(line);
        return new ReliabilityResult(
                required(fields, "scenario", line),
                number(fields, "records_in", line),
                number(fields, "lost", line),
                number(fields, "duplicated", line),
                number(fields, "restarts", line),
                required(fields, "result", line));
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
