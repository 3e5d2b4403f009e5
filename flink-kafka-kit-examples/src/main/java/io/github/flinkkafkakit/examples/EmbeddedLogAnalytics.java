package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.examples.LogAnalyticsExample.Settings;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Embedded mode of {@link LogAnalyticsExample}: logs of six services over ten minutes, with
 * malformed lines mixed in; every (service, window) count and error count, and the dead-letter
 * count, are checked.
 */
final class EmbeddedLogAnalytics extends EmbeddedRun<Settings> {

    private Expected expected;

    EmbeddedLogAnalytics(LogAnalyticsExample example, Settings settings, int sampleRecords) {
        super(example, settings, sampleRecords);
    }

    /** The expected (count, errors) per "service|window start", and the malformed line count. */
    record Expected(Map<String, long[]> windows, long malformed) {}

    @Override
    void createTopics(KafkaTestClient kafka) {
        kafka.createTopic(settings.inputTopic(), 3);
        kafka.createTopic(settings.outputTopic(), 3);
    }

    @Override
    void writeSampleData(KafkaTestClient kafka, String bootstrapServers, int run, int parallelism) {
        expected = writeSampleLogs(kafka, settings.inputTopic());
        out.printf(
                Locale.ROOT,
                "Wrote %,d log lines of %d services over 10 minutes (%,d malformed) to '%s'%n",
                sampleRecords,
                LogAnalyticsExample.SERVICES.size(),
                expected.malformed(),
                settings.inputTopic());
    }

    @Override
    int checkResult(KafkaTestClient kafka, double seconds) throws Exception {
        Map<String, JsonNode> actual =
                readJson(
                        kafka,
                        settings.outputTopic(),
                        n -> n.get("service").asText() + "|" + n.get("window_start").asText(),
                        n -> n);
        return printResult(actual, deadLetters(kafka, settings.dlqTopic()), seconds);
    }

    private Expected writeSampleLogs(KafkaTestClient kafka, String topic) {
        Random random = new Random(5);
        Instant base =
                Instant.now()
                        .truncatedTo(ChronoUnit.HOURS)
                        .minus(Duration.ofHours(2)); // recent: see EnrichData
        Map<String, long[]> windows = new TreeMap<>();
        long malformed = 0;
        String[] levels = {"INFO", "INFO", "INFO", "WARN", "ERROR"};
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (int i = 0; i < sampleRecords; i++) {
                String service =
                        LogAnalyticsExample.SERVICES.get(
                                Math.min(
                                        random.nextInt(8),
                                        LogAnalyticsExample.SERVICES.size() - 1));
                Instant ts =
                        base.plusMillis((long) i * 600_000 / sampleRecords + random.nextInt(3000));
                String line;
                if (random.nextInt(100) == 0) {
                    malformed++;
                    line = malformedLine(random.nextInt(4), ts, service);
                } else {
                    String level = levels[random.nextInt(levels.length)];
                    long latency = (long) (20 * Math.exp(random.nextGaussian()));
                    line =
                            String.format(
                                    Locale.ROOT,
                                    "{\"ts\":\"%s\",\"service\":\"%s\",\"level\":\"%s\","
                                            + "\"latency_ms\":%d,\"msg\":\"request %d\"}",
                                    ts,
                                    service,
                                    level,
                                    latency,
                                    i);
                    long windowStart =
                            ts.toEpochMilli()
                                    - ts.toEpochMilli() % LogAnalyticsExample.WINDOW.toMillis();
                    long[] cell =
                            windows.computeIfAbsent(
                                    service + "|" + Instant.ofEpochMilli(windowStart),
                                    k -> new long[2]);
                    cell[0]++;
                    if (level.equals("ERROR")) {
                        cell[1]++;
                    }
                }
                batch.send(service, line);
            }
        }
        return new Expected(windows, malformed);
    }

    private static String malformedLine(int kind, Instant ts, String service) {
        switch (kind) {
            case 0:
                return "GET /checkout 500 12ms"; // not LogAnalyticsExample.JSON
            case 1:
                return "{\"service\":\"" + service + "\",\"level\":\"INFO\"}"; // no ts
            case 2:
                return "{\"ts\":\"yesterday\",\"service\":\"" + service + "\"}"; // invalid ts
            default:
                return "{\"ts\":\"" + ts + "\",\"level\":\"ERROR\"}"; // no service
        }
    }

    private int printResult(Map<String, JsonNode> actual, long deadLetters, double seconds) {
        out.println();
        out.println("Per service and minute (first 12 of " + actual.size() + " windows):");
        ResultTable table =
                new ResultTable("service", "window_start", "count", "errors", "p50", "p95", "p99");
        actual.values().stream()
                .sorted(
                        (a, b) ->
                                a.get("window_start")
                                        .asText()
                                        .compareTo(b.get("window_start").asText()))
                .limit(12)
                .forEach(
                        n ->
                                table.add(
                                        n.get("service").asText(),
                                        n.get("window_start").asText(),
                                        n.get("count").asLong(),
                                        n.get("errors").asLong(),
                                        n.get("latency_p50_ms").asLong() + " ms",
                                        n.get("latency_p95_ms").asLong() + " ms",
                                        n.get("latency_p99_ms").asLong() + " ms"));
        table.print(out);
        long wrong = 0;
        for (Map.Entry<String, long[]> e : expected.windows().entrySet()) {
            JsonNode n = actual.get(e.getKey());
            if (n == null
                    || n.get("count").asLong() != e.getValue()[0]
                    || n.get("errors").asLong() != e.getValue()[1]) {
                wrong++;
            }
        }
        boolean exact =
                wrong == 0
                        && actual.size() == expected.windows().size()
                        && deadLetters == expected.malformed();
        out.println();
        out.printf(
                Locale.ROOT,
                "records in: %,d | records out: %,d | dead letters: %,d | %.1f s (%,.0f records/s)"
                        + " | %s%n",
                sampleRecords,
                actual.size(),
                deadLetters,
                seconds,
                sampleRecords / seconds,
                exact
                        ? "all " + actual.size() + " windows exact"
                        : wrong + " windows wrong, dead letters expected " + expected.malformed());
        return exact ? 0 : Examples.EXIT_FAILURE;
    }
}
