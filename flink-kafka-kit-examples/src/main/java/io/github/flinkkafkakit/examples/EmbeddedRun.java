package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The embedded run of an example: an in-process broker, generated sample data, the job (once, or
 * twice with the second run restarting at another parallelism), then the output read back with
 * read_committed and checked against what the generated data should give. An example supplies its
 * topics, its data generator (which remembers the expected result) and its check. Kept apart from
 * {@link ExampleCommand} so that the job jar (no embedded broker inside) never loads it.
 *
 * @param <S> the example's settings
 */
abstract class EmbeddedRun<S extends ExampleCommand.Settings> {

    final ExampleCommand<S> example;
    final S settings;
    final PrintWriter out;

    /** {@code --records}: how many sample records to write (per run). */
    final int sampleRecords;

    EmbeddedRun(ExampleCommand<S> example, S settings, int sampleRecords) {
        this.example = example;
        this.settings = settings;
        this.out = example.out;
        this.sampleRecords = sampleRecords;
    }

    /** Creates the topics that must exist before anything is written. */
    abstract void createTopics(KafkaTestClient kafka);

    /**
     * How many times the job runs, each after {@link #writeSampleData} wrote a batch; the second
     * run restarts at another parallelism.
     */
    int runs() {
        return 1;
    }

    /**
     * Writes the sample data of {@code run} (0-based) to the input topics, prints what it wrote and
     * remembers what the output should be.
     */
    abstract void writeSampleData(
            KafkaTestClient kafka, String bootstrapServers, int run, int parallelism);

    /** Printed once the job is built, just before it runs (null: nothing). */
    String runningLine(int parallelism) {
        return null;
    }

    /**
     * Reads the output back, prints the results and the summary line, and returns the exit code: 0
     * when the output is exactly what the sample data should give.
     *
     * @param seconds how long the job ran (all runs)
     */
    abstract int checkResult(KafkaTestClient kafka, double seconds) throws Exception;

    final int run() throws Exception {
        out.println("Starting an embedded Kafka broker ...");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
                KafkaTestClient kafka = broker.client()) {
            createTopics(kafka);
            CommonOptions options = example.options;
            KafkaConnection connection = options.connection(broker.bootstrapServers());
            int[] parallelisms = {options.parallelism, options.parallelism == 1 ? 2 : 1};
            double seconds = 0;
            for (int run = 0; run < runs(); run++) {
                writeSampleData(kafka, broker.bootstrapServers(), run, parallelisms[run]);
                out.flush();
                seconds +=
                        example.runJob(
                                        connection,
                                        settings,
                                        parallelisms[run],
                                        runningLine(parallelisms[run]))
                                .seconds();
            }
            return checkResult(kafka, seconds);
        }
    }

    /** The last value per key of a topic, and how many records it has. */
    record LatestValues(Map<String, String> values, long records) {

        static LatestValues of(KafkaTestClient kafka, String topic) {
            Map<String, String> values = new LinkedHashMap<>();
            long records = 0;
            for (ConsumerRecord<String, String> r : kafka.consumeAll(topic)) {
                values.put(r.key(), r.value());
                records++;
            }
            return new LatestValues(values, records);
        }
    }

    /** A topic of JSON values: {@code value(json)} by {@code key(json)}, in key order. */
    static <V> Map<String, V> readJson(
            KafkaTestClient kafka,
            String topic,
            Function<JsonNode, String> key,
            Function<JsonNode, V> value)
            throws Exception {
        Map<String, V> result = new TreeMap<>();
        for (ConsumerRecord<String, String> r : kafka.consumeAll(topic)) {
            JsonNode json = LogAnalyticsExample.JSON.readTree(r.value());
            result.put(key.apply(json), value.apply(json));
        }
        return result;
    }

    /** How many records a dead-letter topic has. */
    static long deadLetters(KafkaTestClient kafka, String topic) {
        return kafka.consumeAllBytes(topic, KafkaTestClient.DEFAULT_IDLE).size();
    }
}
