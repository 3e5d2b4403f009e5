package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.examples.StatefulTotalExample.Settings;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Embedded mode of {@link StatefulTotalExample}: an in-process broker, generated sample data, the
 * job, and a result table checked against the expected values. Kept apart so that the job jar (no
 * embedded broker inside) never loads it.
 */
final class EmbeddedStatefulTotal {

    private final PrintWriter out;
    private final CommonOptions options;
    private final int sampleRecords;
    private final StatefulTotalExample example;

    EmbeddedStatefulTotal(
            PrintWriter out,
            CommonOptions options,
            int sampleRecords,
            StatefulTotalExample example) {
        this.out = out;
        this.options = options;
        this.sampleRecords = sampleRecords;
        this.example = example;
    }

    int run(Settings settings) throws Exception {
        out.println("Starting an embedded Kafka broker ...");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
                KafkaTestClient kafka = broker.client()) {
            kafka.createTopic(settings.inputTopic(), 4);
            KafkaConnection connection = options.connection(broker.bootstrapServers());
            SampleData data = new SampleData(StatefulTotalExample.SAMPLE_KEYS, 0.8, 7);
            Map<String, Long> expected = new HashMap<>();
            long invalid = 0;
            long start = System.nanoTime();
            int[] parallelisms = {options.parallelism, options.parallelism == 1 ? 2 : 1};
            for (int run = 0; run < 2; run++) {
                invalid += writeBatch(kafka, settings.inputTopic(), data, expected);
                out.printf(
                        Locale.ROOT,
                        "Run %d: %,d deposits in '%s'; %s at parallelism %d%s ...%n",
                        run + 1,
                        sampleRecords,
                        settings.inputTopic(),
                        run == 0 ? "summing" : "restarting from Kafka alone (no checkpoint)",
                        parallelisms[run],
                        run == 0 ? "" : ", state restored from '" + settings.stateTopic() + "'");
                out.flush();
                example.runJob(connection, settings, parallelisms[run]);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, String> actual = new java.util.LinkedHashMap<>();
            long recordsOut = 0;
            for (var r : kafka.consumeAll(settings.outputTopic())) {
                actual.put(r.key(), r.value());
                recordsOut++;
            }
            long deadLetters =
                    kafka.consumeAllBytes(settings.dlqTopic(), KafkaTestClient.DEFAULT_IDLE).size();
            return printResult(expected, actual, recordsOut, invalid, deadLetters, seconds);
        }
    }

    /** One batch: deposits per account, about 0.1 % of them not a number. */
    private long writeBatch(
            KafkaTestClient kafka, String topic, SampleData data, Map<String, Long> expected) {
        long invalid = 0;
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
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
        return invalid;
    }

    private int printResult(
            Map<String, Long> expected,
            Map<String, String> actual,
            long recordsOut,
            long invalid,
            long deadLetters,
            double seconds) {
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
                recordsOut,
                deadLetters,
                invalid,
                expected.size(),
                seconds,
                2 * sampleRecords / seconds,
                exact ? "all " + expected.size() + " totals exact" : wrong + " totals wrong");
        return exact ? 0 : Examples.EXIT_FAILURE;
    }
}
