package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.examples.EnrichExample.Settings;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;

/**
 * Embedded mode of {@link EnrichExample}: an in-process broker, generated clicks and profile
 * versions (two batches, the second read by a run that restarts from Kafka alone at another
 * parallelism), and a check of every enriched click against the profile version in effect at its
 * time. Kept apart so that the job jar (no embedded broker inside) never loads it.
 */
final class EmbeddedEnrich {

    private static final String[] COUNTRIES = {"DE", "FR", "US", "JP", "BR", "IN", "NL", "SE"};
    private static final String[] PLANS = {"free", "pro", "team"};
    private static final String[] URLS = {"/", "/cart", "/search", "/product", "/checkout"};

    /** Event time between two generated events; each is up to 1 s off (out of order). */
    private static final long STEP_MILLIS = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintWriter out;
    private final CommonOptions options;
    private final int clicksPerBatch;
    private final EnrichExample example;

    /** Every valid profile version generated so far: user → ts → "country/plan". */
    private final Map<String, NavigableMap<Long, String[]>> versions = new HashMap<>();

    /** Every on-time click generated so far, as it must come out. */
    private final Map<String, EnrichedClick> expected = new HashMap<>();

    private final Random random = new Random(42);

    /** Malformed records generated: each must be a dead letter. */
    private long malformed;

    /**
     * Clicks generated an hour behind their batch: a dead letter each when the watermark has passed
     * them as they arrive (it has, unless the partitions were read far apart), else joined.
     */
    private final Map<String, EnrichedClick> late = new HashMap<>();

    private long nextTime = Instant.parse("2026-11-24T10:00:00Z").toEpochMilli();

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
            long start = System.nanoTime();
            int[] parallelisms = {options.parallelism, options.parallelism == 1 ? 2 : 1};
            for (int run = 0; run < 2; run++) {
                writeBatch(kafka, settings, run);
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
            return check(kafka, settings, seconds);
        }
    }

    /**
     * One batch: clicks and profile versions of 1,000 users in event-time order (each up to 1 s
     * off), about 0.1 % of each topic malformed, and at the end a few clicks an hour late.
     */
    private void writeBatch(KafkaTestClient kafka, Settings settings, int batch) {
        int users = 1_000;
        int versionsPerBatch = clicksPerBatch / 10;
        int events = clicksPerBatch + versionsPerBatch;
        long batchStart = nextTime;
        try (KafkaTestClient.Batch clicks = kafka.batch(settings.clicksTopic());
                KafkaTestClient.Batch profiles = kafka.batch(settings.profilesTopic())) {
            int clicksLeft = clicksPerBatch;
            int versionsLeft = versionsPerBatch;
            for (int i = 0; i < events; i++) {
                long time = nextTime + random.nextInt(1000);
                nextTime += STEP_MILLIS;
                String user = "u" + random.nextInt(users);
                boolean click = random.nextInt(clicksLeft + versionsLeft) < clicksLeft;
                if (click) {
                    clicksLeft--;
                    String id = "c-" + batch + "-" + i;
                    if (random.nextInt(1000) == 0) {
                        clicks.send(user, "{\"click\": \"" + id + "\", not json");
                        malformed++;
                        continue;
                    }
                    String ts = Instant.ofEpochMilli(time).toString();
                    String url = URLS[random.nextInt(URLS.length)];
                    clicks.send(user, clickJson(id, user, ts, url));
                    expected.put(id, new EnrichedClick(id, user, ts, url, null, null));
                } else {
                    versionsLeft--;
                    if (random.nextInt(1000) == 0) {
                        profiles.send(user, "{\"user\": \"" + user + "\", \"plan\": \"pro\"}");
                        malformed++; // no ts
                        continue;
                    }
                    String country = COUNTRIES[random.nextInt(COUNTRIES.length)];
                    String plan = PLANS[random.nextInt(PLANS.length)];
                    profiles.send(
                            user,
                            String.format(
                                    "{\"user\":\"%s\",\"ts\":\"%s\",\"country\":\"%s\",\"plan\":\"%s\"}",
                                    user, Instant.ofEpochMilli(time), country, plan));
                    versions.computeIfAbsent(user, u -> new TreeMap<>())
                            .put(time, new String[] {country, plan});
                }
            }
            for (int i = 0; i < 5; i++) { // an hour before the batch: behind the watermark
                String user = "u" + random.nextInt(users);
                String id = "late-" + batch + "-" + i;
                String ts = Instant.ofEpochMilli(batchStart - 3_600_000 + i).toString();
                clicks.send(user, clickJson(id, user, ts, "/"));
                late.put(id, new EnrichedClick(id, user, ts, "/", null, null));
            }
        }
    }

    private static String clickJson(String id, String user, String ts, String url) {
        return String.format(
                "{\"click\":\"%s\",\"user\":\"%s\",\"ts\":\"%s\",\"url\":\"%s\"}",
                id, user, ts, url);
    }

    /** The profile version of {@code click}'s user in effect at its time. */
    private EnrichedClick enriched(EnrichedClick click) {
        NavigableMap<Long, String[]> userVersions = versions.get(click.user);
        Map.Entry<Long, String[]> version =
                userVersions == null
                        ? null
                        : userVersions.floorEntry(Instant.parse(click.ts).toEpochMilli());
        return version == null
                ? click
                : new EnrichedClick(
                        click.click,
                        click.user,
                        click.ts,
                        click.url,
                        version.getValue()[0],
                        version.getValue()[1]);
    }

    private int check(KafkaTestClient kafka, Settings settings, double seconds) throws Exception {
        Map<String, List<EnrichedClick>> outputs = new HashMap<>();
        long recordsOut = 0;
        for (var r : kafka.consumeAll(settings.outputTopic())) {
            JsonNode value = JSON.readTree(r.value());
            EnrichedClick click =
                    new EnrichedClick(
                            text(value, "click"),
                            text(value, "user"),
                            text(value, "ts"),
                            text(value, "url"),
                            text(value, "country"),
                            text(value, "plan"));
            outputs.computeIfAbsent(click.click, c -> new ArrayList<>()).add(click);
            recordsOut++;
        }
        long missing = 0;
        long duplicated = 0;
        long wrong = 0;
        List<String[]> sample = new ArrayList<>();
        for (EnrichedClick click : expected.values()) {
            List<EnrichedClick> got = outputs.getOrDefault(click.click, List.of());
            EnrichedClick want = enriched(click);
            if (got.isEmpty()) {
                missing++;
            } else {
                duplicated += got.size() - 1;
                if (!got.get(0).equals(want)) {
                    wrong++;
                }
                if (sample.size() < 8) {
                    sample.add(
                            new String[] {
                                click.click,
                                click.user,
                                click.ts,
                                String.valueOf(got.get(0).country),
                                String.valueOf(got.get(0).plan),
                                got.get(0).equals(want) ? "yes" : "NO, expected " + want
                            });
                }
            }
        }
        long lateJoined = 0;
        for (EnrichedClick click : late.values()) {
            List<EnrichedClick> got = outputs.getOrDefault(click.click, List.of());
            lateJoined += Math.min(1, got.size());
            duplicated += Math.max(0, got.size() - 1);
            if (!got.isEmpty() && !got.get(0).equals(enriched(click))) {
                wrong++;
            }
        }
        long unexpected =
                outputs.keySet().stream()
                        .filter(id -> !expected.containsKey(id) && !late.containsKey(id))
                        .count();
        long deadLetters = malformed + late.size() - lateJoined;
        long letters =
                kafka.consumeAllBytes(settings.dlqTopic(), KafkaTestClient.DEFAULT_IDLE).size();
        out.println();
        out.println("Enriched clicks read back from Kafka with read_committed (a sample):");
        printSample(sample);
        boolean exact =
                missing == 0
                        && duplicated == 0
                        && wrong == 0
                        && unexpected == 0
                        && letters == deadLetters;
        out.println();
        out.printf(
                Locale.ROOT,
                "clicks: %,d | records out: %,d | dead letters: %,d (expected %,d: %d malformed, %d"
                        + " late) | %.1f s | %s%n",
                expected.size(),
                recordsOut,
                letters,
                deadLetters,
                malformed,
                late.size() - lateJoined,
                seconds,
                exact
                        ? String.format(
                                Locale.ROOT,
                                "all %,d clicks enriched exactly once",
                                expected.size())
                        : String.format(
                                Locale.ROOT,
                                "%d missing, %d duplicated, %d wrong, %d unexpected",
                                missing,
                                duplicated,
                                wrong,
                                unexpected));
        return exact ? 0 : Examples.EXIT_FAILURE;
    }

    private void printSample(List<String[]> rows) {
        String format = "%-14s %-6s %-26s %-8s %-6s %s%n";
        out.printf(Locale.ROOT, format, "click", "user", "ts", "country", "plan", "as expected");
        for (String[] row : rows) {
            out.printf(Locale.ROOT, format, (Object[]) row);
        }
    }

    private static String text(JsonNode value, String field) {
        JsonNode node = value.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }
}
