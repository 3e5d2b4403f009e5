package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.examples.PageViewsExample.Settings;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Embedded mode of {@link PageViewsExample}: an in-process broker, ten minutes of generated page
 * views (Zipf-skewed pages, out of order by up to 5 s), the job, and the top pages of the first
 * windows, with every (page, window) count checked.
 */
final class EmbeddedPageViews extends EmbeddedRun<Settings> {

    private Map<String, Long> expected;

    EmbeddedPageViews(PageViewsExample example, Settings settings, int sampleRecords) {
        super(example, settings, sampleRecords);
    }

    @Override
    void createTopics(KafkaTestClient kafka) {
        kafka.createTopic(settings.inputTopic(), 3);
    }

    @Override
    void writeSampleData(KafkaTestClient kafka, String bootstrapServers, int run, int parallelism) {
        expected = writeViews(kafka, settings.inputTopic());
        out.printf(
                Locale.ROOT,
                "Wrote %,d page views over 10 minutes to '%s'%n",
                sampleRecords,
                settings.inputTopic());
    }

    @Override
    int checkResult(KafkaTestClient kafka, double seconds) throws Exception {
        Map<String, Long> actual =
                readJson(
                        kafka,
                        settings.outputTopic(),
                        n -> n.get("page").asText() + "|" + n.get("window_start").asText(),
                        n -> n.get("views").asLong());
        // Keyed by window start, as the records are.
        Map<String, JsonNode> tops =
                readJson(kafka, settings.topTopic(), n -> n.get("window_start").asText(), n -> n);
        out.println();
        out.println("Top pages of the first windows (1 minute, sliding every 15 s):");
        ResultTable table = new ResultTable("window_start", "#1", "#2", "#3");
        tops.values().stream()
                .limit(8)
                .forEach(
                        t ->
                                table.add(
                                        t.get("window_start").asText(),
                                        cell(t, 0),
                                        cell(t, 1),
                                        cell(t, 2)));
        table.print(out);
        boolean exact = actual.equals(expected);
        out.println();
        out.printf(
                Locale.ROOT,
                "records in: %,d | records out: %,d (+%,d top lists) | dead letters: 0 |"
                        + " %.1f s (%,.0f records/s) | %s%n",
                sampleRecords,
                actual.size(),
                tops.size(),
                seconds,
                sampleRecords / seconds,
                exact
                        ? "all " + actual.size() + " page windows exact"
                        : "page windows differ from the generated data");
        return exact ? 0 : Examples.EXIT_FAILURE;
    }

    private static String cell(JsonNode top, int i) {
        JsonNode pages = top.get("top");
        return i < pages.size()
                ? pages.get(i).get("page").asText()
                        + " ("
                        + pages.get(i).get("views").asLong()
                        + ")"
                : "";
    }

    /** Writes the views and returns the expected count per "page|window start". */
    private Map<String, Long> writeViews(KafkaTestClient kafka, String topic) {
        SampleData data = new SampleData(200, 1.0, 11);
        long base =
                Instant.now()
                        .truncatedTo(ChronoUnit.HOURS)
                        .minus(Duration.ofHours(2))
                        .toEpochMilli(); // recent: see EnrichData
        long window = PageViewsExample.WINDOW.toMillis();
        long slide = PageViewsExample.SLIDE.toMillis();
        Map<String, Long> expected = new TreeMap<>();
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (int i = 0; i < sampleRecords; i++) {
                String page = "/products/" + (data.nextRank() + 1);
                long ts = base + (long) i * 600_000 / sampleRecords + data.random().nextInt(5000);
                batch.send("user-" + data.random().nextInt(5000), page, ts);
                // Every sliding window containing ts: starts from the last slide boundary back.
                for (long s = ts - ts % slide; s > ts - window; s -= slide) {
                    expected.merge(page + "|" + Instant.ofEpochMilli(s), 1L, Long::sum);
                }
            }
        }
        return expected;
    }
}
