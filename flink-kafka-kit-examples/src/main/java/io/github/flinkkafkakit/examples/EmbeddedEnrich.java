package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.examples.EnrichExample.Settings;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Embedded mode of {@link EnrichExample}: an in-process broker, generated clicks and profile
 * versions ({@link EnrichData}; two batches, the second read by a run that restarts from Kafka
 * alone at another parallelism), and a check of every enriched click against the profile version in
 * effect at its time. Kept apart so that the job jar (no embedded broker inside) never loads it.
 */
final class EmbeddedEnrich {

    private final PrintWriter out;
    private final CommonOptions options;
    private final int clicksPerBatch;
    private final EnrichExample example;

    EmbeddedEnrich(
            PrintWriter out, CommonOptions options, int clicksPerBatch, EnrichExample example) {
        this.out = out;
        this.options = options;
        this.clicksPerBatch = clicksPerBatch;
        this.example = example;
    }

    int run(Settings settings) throws Exception {
        out.println("Starting an embedded Kafka broker ...");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
                KafkaTestClient kafka = broker.client()) {
            kafka.createTopic(settings.clicksTopic(), 4);
            kafka.createTopic(settings.profilesTopic(), 4);
            KafkaConnection connection = options.connection(broker.bootstrapServers());
            EnrichData data = new EnrichData(42);
            long start = System.nanoTime();
            int[] parallelisms = {options.parallelism, options.parallelism == 1 ? 2 : 1};
            for (int run = 0; run < 2; run++) {
                data.writeBatch(
                        kafka, settings.clicksTopic(), settings.profilesTopic(), clicksPerBatch);
                out.printf(
                        Locale.ROOT,
                        "Run %d: %,d clicks in '%s', %,d profile versions in '%s'; %s at"
                                + " parallelism %d ...%n",
                        run + 1,
                        clicksPerBatch,
                        settings.clicksTopic(),
                        clicksPerBatch / 10,
                        settings.profilesTopic(),
                        run == 0
                                ? "enriching"
                                : "restarting from Kafka alone (no checkpoint), state restored"
                                        + " from '"
                                        + settings.stateTopic()
                                        + "',",
                        parallelisms[run]);
                out.flush();
                example.runJob(connection, settings, parallelisms[run]);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            EnrichData.Verdict verdict =
                    data.check(kafka, settings.outputTopic(), settings.dlqTopic());
            out.println();
            out.println("Enriched clicks read back from Kafka with read_committed (a sample):");
            String format = "%-14s %-6s %-26s %-8s %-6s %s%n";
            out.printf(
                    Locale.ROOT, format, "click", "user", "ts", "country", "plan", "as expected");
            for (String[] row : verdict.sample) {
                out.printf(Locale.ROOT, format, (Object[]) row);
            }
            out.println();
            out.printf(Locale.ROOT, "%s | %.1f s%n", verdict, seconds);
            return verdict.exact() ? 0 : Examples.EXIT_FAILURE;
        }
    }
}
