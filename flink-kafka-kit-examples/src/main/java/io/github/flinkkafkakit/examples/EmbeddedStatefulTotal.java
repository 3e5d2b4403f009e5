package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.examples.StatefulTotalExample.Settings;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Embedded mode of {@link StatefulTotalExample}: two batches of deposits per account (about 0.1 %
 * of them not a number), the second summed by a run that restarts from Kafka alone at another
 * parallelism; every total and the dead-letter count are checked.
 */
final class EmbeddedStatefulTotal extends EmbeddedRun<Settings> {

    private final SampleData data = new SampleData(StatefulTotalExample.SAMPLE_KEYS, 0.8, 7);
    private final Map<String, Long> expected = new HashMap<>();
    private long invalid;

    EmbeddedStatefulTotal(StatefulTotalExample example, Settings settings, int sampleRecords) {
        super(example, settings, sampleRecords);
    }

    @Override
    void createTopics(KafkaTestClient kafka) {
        kafka.createTopic(settings.inputTopic(), 4);
    }

    @Override
    int runs() {
        return 2;
    }

    @Override
    void writeSampleData(KafkaTestClient kafka, String bootstrapServers, int run, int parallelism) {
        try (KafkaTestClient.Batch batch = kafka.batch(settings.inputTopic())) {
            for (int i = 0; i < sampleRecords; i++) {
                String account = String.format(Locale.ROOT, "account-%03d", data.nextRank() + 1);
                String value;
                if (data.random().nextInt(1000) == 0) {
                    value = "twelve";
                    invalid++;
                } else {
                    long amount = data.random().nextInt(200) - 50;
                    value = Long.toString(amount);
                    expected.merge(account, amount, Long::sum);
                }
                batch.send(account, value);
            }
        }
        out.printf(
                Locale.ROOT,
                "Run %d: %,d deposits in '%s'; %s at parallelism %d%s ...%n",
                run + 1,
                sampleRecords,
                settings.inputTopic(),
                run == 0 ? "summing" : "restarting from Kafka alone (no checkpoint)",
                parallelism,
                run == 0 ? "" : ", state restored from '" + settings.stateTopic() + "'");
    }

    @Override
    int checkResult(KafkaTestClient kafka, double seconds) {
        LatestValues output = LatestValues.of(kafka, settings.outputTopic());
        Map<String, String> actual = output.values();
        long deadLetters = deadLetters(kafka, settings.dlqTopic());
        out.println();
        out.println("Top 10 totals after both runs (read back from Kafka with read_committed):");
        ResultTable.largestExpected("total", expected, actual).print(out);
        long wrong = ResultTable.wrongKeys(expected, actual);
        boolean exact = wrong == 0 && actual.size() == expected.size() && deadLetters == invalid;
        out.println();
        out.printf(
                Locale.ROOT,
                "records in: %,d | records out: %,d | dead letters: %,d (expected %,d) | keys: %,d"
                        + " | %.1f s (%,.0f records/s) | %s%n",
                2L * sampleRecords,
                output.records(),
                deadLetters,
                invalid,
                expected.size(),
                seconds,
                2 * sampleRecords / seconds,
                exact ? "all " + expected.size() + " totals exact" : wrong + " totals wrong");
        return exact ? 0 : Examples.EXIT_FAILURE;
    }
}
