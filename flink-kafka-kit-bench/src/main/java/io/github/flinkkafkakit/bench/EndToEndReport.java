package io.github.flinkkafkakit.bench;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.Color;
import java.awt.Paint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The end-to-end results as JSON, a Markdown table with the goals, and a PNG bar chart. */
final class EndToEndReport {

    /** One scenario's result: a measurement, or the error that made it fail. */
    record Row(String scenario, EndToEndScenario.Measurement measurement, String error) {}

    /** A performance goal: {@code scenario / baseline ≥ target}, or {@code scenario ≥ target}. */
    record Goal(String scenario, String baseline, double target) {
        String describe() {
            return baseline == null
                    ? String.format(Locale.ROOT, "%s ≥ %,.0f keys/s", scenario, target)
                    : String.format(Locale.ROOT, "%s ≥ %.2f × %s", scenario, target, baseline);
        }
    }

    static final List<Goal> GOALS =
            List.of(
                    new Goal("kit-count-eos", "kafka-pipe", 1.0),
                    new Goal("kit-count-alo", "flink-keyby-count-alo", 2.0),
                    new Goal("kit-count-eos", "kafka-streams-count-eos", 5.0),
                    new Goal("kit-changelog-eos", "kit-count-eos", 0.85),
                    // Issue #6: the same keyed job with changelog state vs without.
                    new Goal("kit-changelog-eos", "total-flink-state-eos", 0.85),
                    new Goal("changelog-restore", null, 2_000_000));

    private final int records;
    private final int keys;
    private final String settings;
    private final List<Row> rows;
    private final String machine;

    EndToEndReport(int records, int keys, String settings, List<Row> rows) {
        this.records = records;
        this.keys = keys;
        this.settings = settings;
        this.rows = rows;
        this.machine =
                String.format(
                        Locale.ROOT,
                        "%d cores, %s %s, Java %s, max heap %d MiB",
                        Runtime.getRuntime().availableProcessors(),
                        System.getProperty("os.name"),
                        System.getProperty("os.arch"),
                        System.getProperty("java.version"),
                        Runtime.getRuntime().maxMemory() >> 20);
    }

    /** {@code file} with its {@code .json} suffix replaced by {@code suffix}. */
    static Path sibling(Path json, String suffix) {
        String name = json.getFileName().toString();
        return json.resolveSibling(name.substring(0, name.length() - ".json".length()) + suffix);
    }

    void write(Path json) throws IOException {
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(json, json(), StandardCharsets.UTF_8);
        Files.writeString(sibling(json, ".md"), markdown(), StandardCharsets.UTF_8);
        chart(sibling(json, ".png"));
    }

    private Double rate(String scenario) {
        for (Row r : rows) {
            if (r.scenario().equals(scenario) && r.measurement() != null) {
                return r.measurement().recordsPerSecond();
            }
        }
        return null;
    }

    /** The goal's measured value (a ratio, or keys/s), or {@code null} if not measured. */
    Double value(Goal goal) {
        Double v = rate(goal.scenario());
        if (goal.baseline() == null || v == null) {
            return v;
        }
        Double base = rate(goal.baseline());
        return base == null || base == 0 ? null : v / base;
    }

    String json() {
        StringBuilder b = new StringBuilder();
        b.append("{\"records\":").append(records).append(",\"keys\":").append(keys);
        b.append(",\"settings\":").append(quote(settings));
        b.append(",\"machine\":").append(quote(machine));
        b.append(",\"results\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            b.append(i == 0 ? "" : ",").append("\n  {\"scenario\":").append(quote(r.scenario()));
            if (r.measurement() != null) {
                EndToEndScenario.Measurement m = r.measurement();
                b.append(
                        String.format(
                                Locale.ROOT, ",\"records_per_second\":%.1f", m.recordsPerSecond()));
                b.append(String.format(Locale.ROOT, ",\"seconds\":%.3f", m.seconds()));
                b.append(
                        String.format(
                                Locale.ROOT, ",\"startup_seconds\":%.3f", m.startupSeconds()));
                b.append(",\"records_measured\":").append(m.records());
                b.append(",\"verified\":true,\"verification\":").append(quote(m.verified()));
            } else {
                b.append(",\"records_per_second\":null,\"seconds\":null,\"verified\":false");
                b.append(",\"error\":").append(quote(r.error()));
            }
            b.append('}');
        }
        b.append("\n],\"goals\":[");
        for (int i = 0; i < GOALS.size(); i++) {
            Goal g = GOALS.get(i);
            Double v = value(g);
            b.append(i == 0 ? "" : ",").append("\n  {\"goal\":").append(quote(g.describe()));
            b.append(",\"value\":")
                    .append(v == null ? "null" : String.format(Locale.ROOT, "%.3f", v));
            b.append(",\"met\":").append(v != null && v >= g.target()).append('}');
        }
        return b.append("\n]}\n").toString();
    }

    String markdown() {
        Double pipe = rate("kafka-pipe");
        StringBuilder b = new StringBuilder();
        b.append(
                String.format(
                        Locale.ROOT, "%,d records, %,d keys; %s.%n", records, keys, settings));
        b.append("Machine: ").append(machine).append(".\n\n");
        b.append("| Scenario | Records/s | Seconds | Start-up s | × kafka-pipe | Verified |\n");
        b.append("|---|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            EndToEndScenario.Measurement m = r.measurement();
            if (m == null) {
                b.append(
                        String.format(
                                "| %s | – | – | – | – | **FAILED**: %s |%n",
                                r.scenario(), r.error()));
                continue;
            }
            boolean restore = r.scenario().equals("changelog-restore");
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %,.0f%s | %.2f | %.1f | %s | %s |%n",
                            r.scenario(),
                            m.recordsPerSecond(),
                            restore ? " keys/s" : "",
                            m.seconds(),
                            m.startupSeconds(),
                            restore || pipe == null
                                    ? "–"
                                    : String.format(
                                            Locale.ROOT, "%.2f", m.recordsPerSecond() / pipe),
                            m.verified()));
        }
        b.append("\n| Goal | Measured | Result |\n|---|---:|---|\n");
        for (Goal g : GOALS) {
            Double v = value(g);
            String measured =
                    v == null
                            ? "–"
                            : g.baseline() == null
                                    ? String.format(Locale.ROOT, "%,.0f keys/s", v)
                                    : String.format(Locale.ROOT, "%.2f ×", v);
            String result = v == null ? "not measured" : v >= g.target() ? "met" : "**missed**";
            b.append("| ").append(g.describe()).append(" | ").append(measured).append(" | ");
            b.append(result).append(" |\n");
        }
        return b.toString();
    }

    private void chart(Path png) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<String> labels = new ArrayList<>();
        Double pipe = rate("kafka-pipe");
        for (Row r : rows) {
            if (r.measurement() == null) {
                continue;
            }
            double rate = r.measurement().recordsPerSecond();
            boolean restore = r.scenario().equals("changelog-restore");
            String label =
                    restore
                            ? String.format(Locale.ROOT, "%.2fM keys/s", rate / 1e6)
                            : pipe == null
                                    ? String.format(Locale.ROOT, "%.2fM/s", rate / 1e6)
                                    : String.format(
                                            Locale.ROOT,
                                            "%.2fM/s (%.2f×)",
                                            rate / 1e6,
                                            rate / pipe);
            labels.add(label);
            data.addValue(rate / 1e6, "throughput", r.scenario());
        }
        JFreeChart chart =
                ChartFactory.createBarChart(
                        String.format(
                                Locale.ROOT,
                                "End to end: %,d records, %,d keys (ratio × kafka-pipe)",
                                records,
                                keys),
                        null,
                        "million records/s (restore: million keys/s)",
                        data,
                        PlotOrientation.HORIZONTAL,
                        false,
                        false,
                        false);
        CategoryPlot plot = chart.getCategoryPlot();
        List<String> scenarios = new ArrayList<>();
        for (Row r : rows) {
            if (r.measurement() != null) {
                scenarios.add(r.scenario());
            }
        }
        // The kit's scenarios in blue, the baselines in grey.
        BarRenderer renderer =
                new BarRenderer() {
                    private static final long serialVersionUID = 1L;

                    @Override
                    public Paint getItemPaint(int row, int column) {
                        return scenarios.get(column).startsWith("kit-")
                                        || scenarios.get(column).startsWith("changelog-")
                                ? new Color(0x1F77B4)
                                : new Color(0x9E9E9E);
                    }
                };
        plot.setRenderer(renderer);
        renderer.setDefaultItemLabelGenerator(
                new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("0.00")) {
                    private static final long serialVersionUID = 1L;

                    @Override
                    public String generateLabel(
                            org.jfree.data.category.CategoryDataset dataset, int row, int column) {
                        return labels.get(column);
                    }
                });
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        chart.setBackgroundPaint(Color.WHITE);
        plot.getRangeAxis().setUpperMargin(0.25);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 520);
    }

    private static String quote(String s) {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
    }
}
