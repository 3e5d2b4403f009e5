package io.github.flinkkafkakit.examples;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** A plain-text table with right-aligned numeric columns, for the examples' results. */
final class ResultTable {

    private final String[] headers;
    private final List<String[]> rows = new ArrayList<>();

    ResultTable(String... headers) {
        this.headers = headers;
    }

    ResultTable add(Object... cells) {
        String[] row = new String[headers.length];
        for (int i = 0; i < headers.length; i++) {
            row[i] = i < cells.length ? String.valueOf(cells[i]) : "";
        }
        rows.add(row);
        return this;
    }

    /**
     * The ten keys with the largest expected values: key, the value read back from Kafka, the
     * expected value.
     */
    static ResultTable largestExpected(
            String valueColumn, Map<String, Long> expected, Map<String, String> actual) {
        ResultTable table = new ResultTable("key", valueColumn, "expected");
        expected.entrySet().stream()
                .sorted(
                        Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                                .thenComparing(Map.Entry.comparingByKey()))
                .limit(10)
                .forEach(
                        e ->
                                table.add(
                                        e.getKey(),
                                        actual.getOrDefault(e.getKey(), "-"),
                                        e.getValue()));
        return table;
    }

    /** How many expected keys Kafka holds another (or no) value for. */
    static long wrongKeys(Map<String, Long> expected, Map<String, String> actual) {
        return expected.entrySet().stream()
                .filter(e -> !Long.toString(e.getValue()).equals(actual.get(e.getKey())))
                .count();
    }

    void print(PrintWriter out) {
        int[] widths = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            widths[i] = headers[i].length();
            for (String[] row : rows) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        printRow(out, headers, widths);
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            rule.append(i == 0 ? "" : "-+-").append("-".repeat(widths[i]));
        }
        out.println(rule);
        for (String[] row : rows) {
            printRow(out, row, widths);
        }
    }

    private static void printRow(PrintWriter out, String[] cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            String cell = cells[i];
            String pad = " ".repeat(widths[i] - cell.length());
            line.append(i == 0 ? "" : " | ").append(i == 0 ? cell + pad : pad + cell);
        }
        out.println(line);
    }
}
