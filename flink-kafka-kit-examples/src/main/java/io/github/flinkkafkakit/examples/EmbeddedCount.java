package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.examples.CountExample.Settings;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Embedded mode of {@link CountExample}: an in-process broker, generated sample data, the job, and
 * a result table checked against the expected values. Kept apart so that the job jar (no embedded
 * broker inside) never loads it.
 */
final class EmbeddedCount {

    private final PrintWriter out;
    private final CommonOptions options;
    private final int sampleRecords;

    EmbeddedCount(PrintWriter out, CommonOptions options, int sampleRecords) {
        this.out = out;
        this.options = options;
        this.sampleRecords = sampleRecords;
    }

    int run(Settings settings) throws Exception {
        out.println("Starting an embedded Kafka broker ...");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
                KafkaTestClient kafka = broker.client()) {
            kafka.createTopic(settings.inputTopic(), 4);
            kafka.createTopic(settings.outputTopic(), 4);
            out.printf(
                    Locale.ROOT,
                    "Writing %,d page views of %,d users (Zipf-skewed) to '%s' on %s%n",
                    sampleRecords,
                    CountExample.SAMPLE_KEYS,
                    settings.inputTopic(),
                    broker.bootstrapServers());
            Map<String, Long> expected = writeSampleData(kafka, settings.inputTopic());

            KafkaConnection connection = options.connection(broker.bootstrapServers());
            StreamExecutionEnvironment env = options.environment(options.parallelism, out);
            KafkaIn<String> in = CountExample.buildPipeline(env, connection, settings);
            out.printf(
                    Locale.ROOT,
                    "Running the count job (%s, parallelism %d) ...%n",
                    settings.guarantee(),
                    options.parallelism);
            long start = System.nanoTime();
            try (Progress progress = Progress.of(out, connection, settings.groupId(), in)) {
                env.execute("count " + settings.inputTopic() + " -> " + settings.outputTopic());
            }
            double seconds = (System.nanoTime() - start) / 1e9;

            Map<String, String> actual = new java.util.LinkedHashMap<>();
            long recordsOut = 0;
            for (var r : kafka.consumeAll(settings.outputTopic())) {
                actual.put(r.key(), r.value());
                recordsOut++;
            }
            return printResult(expected, actual, recordsOut, seconds);
        }
    }

    private Map<String, Long> writeSampleData(KafkaTestClient kafka, String topic) {
        SampleData data = new SampleData(CountExample.SAMPLE_KEYS, 1.0, 42);
        Map<String, Long> expected = new HashMap<>();
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (int i = 0; i < sampleRecords; i++) {
                String user = String.format(Locale.ROOT, "user-%04d", data.nextRank() + 1);
                batch.send(user, "/page/" + (i % 50));
                expected.merge(user, 1L, Long::sum);
            }
        }
        return expected;
    }

    private int printResult(
            Map<String, Long> expected,
            Map<String, String> actual,
            long recordsOut,
            double seconds) {
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
                recordsOut,
                expected.size(),
                seconds,
                sampleRecords / seconds,
                wrong == 0 && extra == 0
                        ? "all " + expected.size() + " counts exact"
                        : wrong + " keys wrong, " + extra + " unexpected keys");
        return wrong == 0 && extra == 0 ? 0 : Examples.EXIT_FAILURE;
    }
}
