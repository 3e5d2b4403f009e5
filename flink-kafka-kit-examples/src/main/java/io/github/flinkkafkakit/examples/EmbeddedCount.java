package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.examples.CountExample.Settings;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Embedded mode of {@link CountExample}: Zipf-skewed page views of {@value
 * CountExample#SAMPLE_KEYS} users; the last count of each user must equal its number of views.
 */
final class EmbeddedCount extends EmbeddedRun<Settings> {

    private final Map<String, Long> expected = new HashMap<>();

    EmbeddedCount(CountExample example, Settings settings, int sampleRecords) {
        super(example, settings, sampleRecords);
    }

    @Override
    void createTopics(KafkaTestClient kafka) {
        kafka.createTopic(settings.inputTopic(), 4);
        kafka.createTopic(settings.outputTopic(), 4);
    }

    @Override
    void writeSampleData(KafkaTestClient kafka, String bootstrapServers, int run, int parallelism) {
        out.printf(
                Locale.ROOT,
                "Writing %,d page views of %,d users (Zipf-skewed) to '%s' on %s%n",
                sampleRecords,
                CountExample.SAMPLE_KEYS,
                settings.inputTopic(),
                bootstrapServers);
        SampleData data = new SampleData(CountExample.SAMPLE_KEYS, 1.0, 42);
        try (KafkaTestClient.Batch batch = kafka.batch(settings.inputTopic())) {
            for (int i = 0; i < sampleRecords; i++) {
                String user = String.format(Locale.ROOT, "user-%04d", data.nextRank() + 1);
                batch.send(user, "/page/" + (i % 50));
                expected.merge(user, 1L, Long::sum);
            }
        }
    }

    @Override
    String runningLine(int parallelism) {
        return String.format(
                Locale.ROOT,
                "Running the count job (%s, parallelism %d) ...",
                settings.guarantee(),
                parallelism);
    }

    @Override
    int checkResult(KafkaTestClient kafka, double seconds) {
        LatestValues output = LatestValues.of(kafka, settings.outputTopic());
        Map<String, String> actual = output.values();
        out.println();
        out.println("Top 10 keys by count (output read back from Kafka with read_committed):");
        ResultTable.largestExpected("count", expected, actual).print(out);
        long wrong = ResultTable.wrongKeys(expected, actual);
        long extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).count();
        out.println();
        out.printf(
                Locale.ROOT,
                "records in: %,d | records out: %,d | dead letters: 0 | keys: %,d | %.1f s (%,.0f"
                        + " records/s) | %s%n",
                sampleRecords,
                output.records(),
                expected.size(),
                seconds,
                sampleRecords / seconds,
                wrong == 0 && extra == 0
                        ? "all " + expected.size() + " counts exact"
                        : wrong + " keys wrong, " + extra + " unexpected keys");
        return wrong == 0 && extra == 0 ? 0 : Examples.EXIT_FAILURE;
    }
}
