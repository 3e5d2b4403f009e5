package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.examples.EnrichExample.Settings;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import java.util.Locale;

/**
 * Embedded mode of {@link EnrichExample}: generated clicks and profile versions ({@link
 * EnrichData}; two batches, the second read by a run that restarts from Kafka alone at another
 * parallelism), and a check of every enriched click against the profile version in effect at its
 * time.
 */
final class EmbeddedEnrich extends EmbeddedRun<Settings> {

    private final EnrichData data = new EnrichData(42);

    EmbeddedEnrich(EnrichExample example, Settings settings, int sampleRecords) {
        super(example, settings, sampleRecords);
    }

    @Override
    void createTopics(KafkaTestClient kafka) {
        kafka.createTopic(settings.clicksTopic(), 4);
        kafka.createTopic(settings.profilesTopic(), 4);
    }

    @Override
    int runs() {
        return 2;
    }

    @Override
    void writeSampleData(KafkaTestClient kafka, String bootstrapServers, int run, int parallelism) {
        data.writeBatch(kafka, settings.clicksTopic(), settings.profilesTopic(), sampleRecords);
        out.printf(
                Locale.ROOT,
                "Run %d: %,d clicks in '%s', %,d profile versions in '%s'; %s at"
                        + " parallelism %d ...%n",
                run + 1,
                sampleRecords,
                settings.clicksTopic(),
                sampleRecords / 10,
                settings.profilesTopic(),
                run == 0
                        ? "enriching"
                        : "restarting from Kafka alone (no checkpoint), state restored"
                                + " from '"
                                + settings.stateTopic()
                                + "',",
                parallelism);
    }

    @Override
    int checkResult(KafkaTestClient kafka, double seconds) {
        EnrichData.Verdict verdict = data.check(kafka, settings.outputTopic(), settings.dlqTopic());
        out.println();
        out.println("Enriched clicks read back from Kafka with read_committed (a sample):");
        String format = "%-14s %-6s %-26s %-8s %-6s %s%n";
        out.printf(Locale.ROOT, format, "click", "user", "ts", "country", "plan", "as expected");
        for (String[] row : verdict.sample) {
            out.printf(Locale.ROOT, format, (Object[]) row);
        }
        out.println();
        out.printf(Locale.ROOT, "%s | %.1f s%n", verdict, seconds);
        return verdict.exact() ? 0 : Examples.EXIT_FAILURE;
    }
}
