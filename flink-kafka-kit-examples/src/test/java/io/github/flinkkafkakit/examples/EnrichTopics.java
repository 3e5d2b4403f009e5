package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaTestClient;

/**
 * The topics of one {@code enrich} restart test (fresh names; the two inputs created with 4
 * partitions, the output and state topics left to the job) and the arguments every run of it
 * shares: the same state topic and group id, so each run resumes from Kafka alone.
 */
record EnrichTopics(String clicks, String profiles, String out, String state, String[] common) {

    /** Creates the input topics; {@code prefix} tells the tests' topics apart in broker logs. */
    static EnrichTopics create(KafkaTestClient kafka, String bootstrapServers, String prefix) {
        String clicks = kafka.createUniqueTopic(prefix + "clicks", 4);
        String profiles = kafka.createUniqueTopic(prefix + "profiles", 4);
        String out = KafkaTestClient.uniqueTopicName(prefix + "enriched");
        String state = KafkaTestClient.uniqueTopicName(prefix + "enrich-state");
        String[] common = {
            "enrich",
            "--bootstrap-servers",
            bootstrapServers,
            "--clicks-topic",
            clicks,
            "--profiles-topic",
            profiles,
            "--output-topic",
            out,
            "--state-topic",
            state,
            "--group-id",
            "g-" + clicks,
            "--checkpoint-interval",
            "300ms"
        };
        return new EnrichTopics(clicks, profiles, out, state, common);
    }

    /** Writes a batch of {@code clickCount} clicks (and a tenth as many profile versions). */
    void write(EnrichData data, KafkaTestClient kafka, int clickCount) {
        data.writeBatch(kafka, clicks, profiles, clickCount);
    }

    /** The common arguments followed by {@code more}. */
    String[] args(String... more) {
        return ExampleRun.with(common, more);
    }

    /** The dead-letter topic the job defaults to. */
    String dlq() {
        return clicks + "-dlq";
    }
}
